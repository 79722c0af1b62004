/**
 * Encryption keys given as text: either 32 random bytes in base64 (or base64url), or a
 * passphrase of at least 32 characters. Parsed here once, so the config error names the
 * variable, and turned into key material by the same function wherever they are used.
 */

export const MIN_PASSPHRASE_LENGTH = 32;

/** 43 base64 characters (44 with the padding `=`) are exactly 32 bytes. */
function isRawKey(value: string): boolean {
  return /^[A-Za-z0-9+/_-]{43}=?$/.test(value);
}

/** A raw key is its 32 decoded bytes; a passphrase is its UTF-8 bytes (callers run either through HKDF). */
export function keyMaterial(value: string): Buffer {
  return isRawKey(value) ? Buffer.from(value, 'base64') : Buffer.from(value, 'utf8');
}

/**
 * A comma-separated list of keys (commas never occur in base64; a passphrase must not
 * contain one). Returns an error text, or the keys in their given order.
 */
export function parseKeyList(raw: string): { keys: string[] } | { error: string } {
  const keys = raw.split(',').map((key) => key.trim());
  const seen = new Map<string, number>();
  for (const [index, key] of keys.entries()) {
    const position = keys.length > 1 ? `key ${index + 1} of ${keys.length}` : 'the key';
    if (key === '') return { error: `${position} is empty (keys are separated by single commas).` };
    if (!isRawKey(key) && key.length < MIN_PASSPHRASE_LENGTH) {
      return {
        error: `${position} must be 32 random bytes in base64 (openssl rand -base64 32) or a passphrase of at least ${MIN_PASSPHRASE_LENGTH} characters.`,
      };
    }
    const material = keyMaterial(key).toString('hex');
    const earlier = seen.get(material);
    if (earlier !== undefined) return { error: `key ${index + 1} repeats key ${earlier + 1}.` };
    seen.set(material, index);
  }
  return { keys };
}
