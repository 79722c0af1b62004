import { useEffect, useState } from 'preact/hooks';
import { type Session, session, subscribe } from './session';

export function useSession(): Session | undefined {
  const [value, setValue] = useState(session);
  useEffect(() => subscribe(() => setValue(session())), []);
  return value;
}
