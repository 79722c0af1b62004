import { randomBytes } from 'node:crypto';

export type IdPrefix = 'ten' | 'cli' | 'pay' | 're' | 'evt' | 'we' | 'wd' | 'aud' | 'req' | 'att';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Opaque, prefixed, URL-safe ids (API.md "Conventions"): 24 base62 characters of randomness (~142 bits). */
export function randomId(prefix: IdPrefix): string {
  const bytes = randomBytes(24);
  let out = '';
  for (const byte of bytes) out += ALPHABET[byte % 62];
  return `${prefix}_${out}`;
}
