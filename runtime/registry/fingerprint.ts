import { createHmac } from 'node:crypto';

/** Below this a keyed fingerprint over a card number could be brute-forced from a leak. */
const MIN_KEY_BYTES = 16;

/**
 * A stable, non-reversible identifier of a payment instrument within one deployment:
 * HMAC-SHA256 keyed with the server's fingerprint secret. A plain hash would not do: the
 * space of card numbers is small enough to enumerate, so without the key anyone could
 * map a fingerprint back to a PAN. `domain` separates instrument kinds so a card number
 * and an account number with the same digits never collide.
 */
export function keyedFingerprint(key: string | Uint8Array, domain: string, value: string): string {
  const keyBytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  if (keyBytes.byteLength < MIN_KEY_BYTES) {
    throw new Error(`The fingerprint key must be at least ${MIN_KEY_BYTES} bytes.`);
  }
  return createHmac('sha256', keyBytes).update(`${domain}\u0000${value}`).digest('base64url').slice(0, 22);
}
