import { describe, expect, test } from 'bun:test';
import { clientSecretKey, hashSecret, newClientSecret, verifySecret } from './secrets';

const key = clientSecretKey(undefined, 'fingerprint-key-for-tests');

describe('client secret hashes', () => {
  test('the right secret verifies; a wrong one, or another key, does not', async () => {
    const secret = newClientSecret();
    const stored = hashSecret(secret, key);
    expect(stored.startsWith('hmac-sha256$')).toBe(true);
    expect(stored).not.toContain(secret);
    expect(await verifySecret(secret, stored, key)).toBe(true);
    expect(await verifySecret(`${secret}x`, stored, key)).toBe(false);
    expect(await verifySecret(secret, stored, clientSecretKey('another key', 'fingerprint-key-for-tests'))).toBe(false);
  });

  // An unknown client runs the same keyed hash and comparison against a dummy (so its
  // answer takes as long as a wrong secret's) and is never accepted, not even with the
  // secret the dummy is made of.
  test('an unknown client is refused whatever the secret, the dummy\'s own included', async () => {
    for (const secret of ['', 'cs_anything', newClientSecret()]) expect(await verifySecret(secret, undefined, key)).toBe(false);
  });

  test('a hash from before the keyed hash (argon2id) still verifies', async () => {
    const secret = newClientSecret();
    const legacy = await Bun.password.hash(secret, { algorithm: 'argon2id', memoryCost: 1024, timeCost: 1 });
    expect(await verifySecret(secret, legacy, key)).toBe(true);
    expect(await verifySecret('cs_wrong', legacy, key)).toBe(false);
  });
});
