import { useEffect, useRef } from 'preact/hooks';

/**
 * Runs `fn` when `key` changes after the first render, never on the first render itself:
 * for form fields that start from the address and follow it when it changes. An effect
 * that also ran on mount would land after the first paint and wipe what was typed in
 * between.
 */
export function useOnChange(key: string, fn: () => void): void {
  const last = useRef(key);
  useEffect(() => {
    if (last.current === key) return;
    last.current = key;
    fn();
  }, [key]);
}
