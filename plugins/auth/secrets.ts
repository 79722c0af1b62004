import { randomBytes } from 'node:crypto';

/**
 * argon2id at OWASP's recommended minimum (19 MiB, 2 passes): slow enough that a leaked
 * table is expensive to attack, fast enough (~tens of ms) for a token endpoint.
 */
const HASH_OPTIONS = { algorithm: 'argon2id', memoryCost: 19_456, timeCost: 2 } as const;

/** A new client secret: 256 bits of randomness, URL-safe, recognisable by its prefix. */
export function newClientSecret(): string {
  return `cs_${randomBytes(32).toString('base64url')}`;
}

export function hashSecret(secret: string): Promise<string> {
  return Bun.password.hash(secret, HASH_OPTIONS);
}

let dummyHash: Promise<string> | undefined;

/**
 * Verifies a secret against its hash. For an unknown client pass `undefined`: the secret
 * is then checked against a dummy hash with the same parameters, so the answer takes the
 * same time whether or not the client exists.
 */
export async function verifySecret(secret: string, hash: string | undefined): Promise<boolean> {
  dummyHash ??= hashSecret(newClientSecret());
  const target = hash ?? (await dummyHash);
  let matches = false;
  try {
    matches = await Bun.password.verify(secret, target);
  } catch {
    matches = false;
  }
  return hash !== undefined && matches;
}
