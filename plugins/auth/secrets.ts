import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Client secrets are 256 bits of randomness, so no guessing attack on a leaked hash can
 * work and a slow password hash buys nothing but CPU: each token request used to spend an
 * argon2id hash (19 MiB, 2 passes), failures included, which let a burst of bad
 * credentials occupy the server. They are stored as HMAC-SHA-256 keyed with a server key
 * (API.md: "a keyed hash"), which keeps a leaked table useless without the key and costs
 * microseconds. Hashes from before (argon2id, `$argon2id$...`) still verify and are
 * replaced by the keyed hash on their next successful use.
 */

const PREFIX = 'hmac-sha256$';

/** A new client secret: 256 bits of randomness, URL-safe, recognisable by its prefix. */
export function newClientSecret(): string {
  return `cs_${randomBytes(32).toString('base64url')}`;
}

/**
 * The HMAC key: NIMBUS_CLIENT_SECRET_KEY when set, else derived (HKDF, its own label)
 * from the fingerprint key, which production requires from its configuration anyway.
 */
export function clientSecretKey(configured: string | undefined, fingerprintKey: string): Buffer {
  if (configured) return Buffer.from(configured, 'utf8');
  return Buffer.from(hkdfSync('sha256', fingerprintKey, 'nimbuspay', 'client secret hash v1', 32));
}

export function hashSecret(secret: string, key: Buffer): string {
  return PREFIX + createHmac('sha256', key).update(secret).digest('base64url');
}

/** Stored before the keyed hash existed: verify once with argon2id, then re-hash. */
export function isLegacyHash(hash: string): boolean {
  return hash.startsWith('$argon2');
}

/**
 * Verifies a secret against its stored hash in constant time. For an unknown client pass
 * `undefined`: a dummy comparison keeps the timing alike, and the answer is false.
 */
export async function verifySecret(secret: string, hash: string | undefined, key: Buffer): Promise<boolean> {
  if (hash !== undefined && isLegacyHash(hash)) {
    try {
      return await Bun.password.verify(secret, hash);
    } catch {
      return false;
    }
  }
  const expected = Buffer.from(hash ?? hashSecret('', key));
  const given = Buffer.from(hashSecret(secret, key));
  const same = expected.length === given.length && timingSafeEqual(expected, given);
  return hash !== undefined && same;
}
