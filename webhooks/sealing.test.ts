import { describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { keyringOf, needsReseal, openSecret, resealed, sealingKey, sealSecret, SecretUnreadable } from './sealing';
import { generateSecret } from './signing';

const KEY_A = randomBytes(32).toString('base64');
const KEY_B = randomBytes(32).toString('base64url');
const PASSPHRASE = 'a passphrase of more than thirty-two characters';

function unreadable(run: () => unknown): SecretUnreadable {
  try {
    run();
  } catch (error) {
    if (error instanceof SecretUnreadable) return error;
    throw error;
  }
  throw new Error('expected SecretUnreadable');
}

describe('webhook secret sealing', () => {
  test('sealed as v1:<kid>:<iv>:<ciphertext+tag>, holding neither the secret nor its bytes, and opening to it', () => {
    const ring = keyringOf([KEY_A]);
    const secret = generateSecret();
    const sealed = sealSecret(ring, 'we_1', secret);
    expect(sealed).toMatch(/^v1:[A-Za-z0-9_-]{8}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+$/);
    expect(sealed.split(':')[1]).toBe(sealingKey(KEY_A).kid);
    const bytes = Buffer.from(secret.slice('whsec_'.length), 'base64');
    for (const form of [secret, secret.slice(6), bytes.toString('base64url'), bytes.toString('hex')]) expect(sealed).not.toContain(form);
    expect(sealSecret(ring, 'we_1', secret)).not.toBe(sealed); // a fresh IV each time
    expect(openSecret(ring, 'we_1', sealed)).toBe(secret);
  });

  test('the key id is stable per key, differs between keys, and a passphrase is a key too', () => {
    expect(sealingKey(KEY_A).kid).toBe(sealingKey(KEY_A).kid);
    expect(sealingKey(KEY_A).kid).not.toBe(sealingKey(KEY_B).kid);
    // The same bytes in base64 and base64url are one key.
    expect(sealingKey(Buffer.from(KEY_B, 'base64url').toString('base64')).kid).toBe(sealingKey(KEY_B).kid);
    const ring = keyringOf([PASSPHRASE]);
    expect(openSecret(ring, 'we_1', sealSecret(ring, 'we_1', 'whsec_x'))).toBe('whsec_x');
  });

  test('the first key seals, every listed key opens; a rotation reseals only what is not under the first key', () => {
    const old = keyringOf([KEY_A]);
    const rotated = keyringOf([KEY_B, KEY_A]);
    const sealedOld = sealSecret(old, 'we_1', 'whsec_old');
    expect(openSecret(rotated, 'we_1', sealedOld)).toBe('whsec_old');
    expect(needsReseal(rotated, sealedOld)).toBe(true);
    const moved = resealed(rotated, 'we_1', sealedOld);
    expect(moved.split(':')[1]).toBe(sealingKey(KEY_B).kid);
    expect(needsReseal(rotated, moved)).toBe(false);
    expect(resealed(rotated, 'we_1', moved)).toBe(moved);
    expect(openSecret(keyringOf([KEY_B]), 'we_1', moved)).toBe('whsec_old');
  });

  test('plaintext from before encryption reads as it is and is sealed by a reseal', () => {
    const ring = keyringOf([KEY_A]);
    expect(openSecret(ring, 'we_1', 'whsec_legacy')).toBe('whsec_legacy');
    expect(needsReseal(ring, 'whsec_legacy')).toBe(true);
    const sealed = resealed(ring, 'we_1', 'whsec_legacy');
    expect(sealed).not.toContain('whsec_');
    expect(openSecret(ring, 'we_1', sealed)).toBe('whsec_legacy');
  });

  test('a missing key, a wrong key, another endpoint, a tampered or unknown value: SecretUnreadable, never the secret', () => {
    const ring = keyringOf([KEY_A]);
    const secret = generateSecret();
    const sealed = sealSecret(ring, 'we_1', secret);
    const missing = unreadable(() => openSecret(keyringOf([KEY_B]), 'we_1', sealed));
    expect(missing.kid).toBe(sealingKey(KEY_A).kid);
    expect(missing.message).toContain('NIMBUS_WEBHOOK_SECRET_KEYS');
    expect(missing.message).toContain('we_1');
    // A key that claims the right id but is another key (a tampered header, in effect).
    const impostor = { keys: [{ kid: sealingKey(KEY_A).kid, key: sealingKey(KEY_B).key }] };
    expect(unreadable(() => openSecret(impostor, 'we_1', sealed)).message).toContain('authentication failed');
    // Bound to the endpoint id: copied to another row, it does not open (nor passes a reseal as current).
    expect(unreadable(() => openSecret(ring, 'we_2', sealed)).message).toContain('authentication failed');
    expect(() => resealed(ring, 'we_2', sealed)).toThrow(SecretUnreadable);
    const parts = sealed.split(':');
    const flipped = Buffer.from(parts[3]!, 'base64url');
    flipped[0] = flipped[0]! ^ 1;
    expect(() => openSecret(ring, 'we_1', [...parts.slice(0, 3), flipped.toString('base64url')].join(':'))).toThrow(SecretUnreadable);
    for (const garbage of ['', 'v2:abc:def:ghi', 'v1:abc', `${sealed}:extra`, secret.slice(6)]) {
      expect(() => openSecret(ring, 'we_1', garbage)).toThrow(SecretUnreadable);
    }
    for (const error of [missing, unreadable(() => openSecret(ring, 'we_2', sealed))]) {
      expect(error.message).not.toContain(secret);
      expect(error.message).not.toContain(parts[3]!);
    }
  });
});
