import { ApiError } from '../../runtime/errors.ts';

/** Runs `fn` and returns the ApiError it threw (fails the test when nothing or something else is thrown). */
export function caught(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected an ApiError, nothing was thrown');
}

export const FINGERPRINT_KEY = 'test-fingerprint-key-0123456789abcdef';
export const NOW = new Date('2026-11-25T12:00:00.000Z');
