import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/**
 * What the idempotency record must not hold in the clear. A request body may carry a card
 * number and CVC, so the request is identified by an HMAC keyed with a server key, never
 * by a plain hash anyone can test guesses against (a card number has few unknown digits).
 * A response may carry a secret shown once (client secrets, webhook signing secrets), so
 * the stored body is AES-256-GCM encrypted, bound to its (scope, key): a replay still
 * answers byte for byte, and a copy of the table reveals nothing without the server key.
 * Both keys are derived (HKDF, their own labels) from the deployment's fingerprint key.
 */

export interface IdempotencySecrets {
  fingerprint: Buffer;
  response: Buffer;
}

const derived = new Map<string, IdempotencySecrets>();

export function idempotencySecrets(serverKey: string): IdempotencySecrets {
  let secrets = derived.get(serverKey);
  if (!secrets) {
    secrets = {
      fingerprint: Buffer.from(hkdfSync('sha256', serverKey, 'nimbuspay', 'idempotency request fingerprint v1', 32)),
      response: Buffer.from(hkdfSync('sha256', serverKey, 'nimbuspay', 'idempotency stored response v1', 32)),
    };
    derived.set(serverKey, secrets);
  }
  return secrets;
}

/** JSON with sorted keys, so the same body in another key order is the same request. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

const FINGERPRINT_PREFIX = 'h1:';

/** HMAC-SHA-256 of method, path and canonical body under the server's fingerprint key. */
export function requestFingerprint(key: Buffer, method: string, path: string, body: unknown): string {
  return FINGERPRINT_PREFIX + createHmac('sha256', key).update(`${method.toUpperCase()} ${path}\n${canonicalJson(body)}`).digest('hex');
}

const BODY_PREFIX = 'v1.';

function aad(scope: string, key: string): Buffer {
  return Buffer.from(`${scope}\u0000${key}`, 'utf8');
}

export function sealResponseBody(key: Buffer, scope: string, idempotencyKey: string, body: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad(scope, idempotencyKey));
  const sealed = Buffer.concat([cipher.update(body, 'utf8'), cipher.final()]);
  return BODY_PREFIX + [iv, sealed, cipher.getAuthTag()].map((part) => part.toString('base64url')).join('.');
}

/**
 * The stored body as it was answered. Rows written before bodies were sealed have no
 * prefix and are returned as they are; they age out with the 24 h expiry.
 */
export function openResponseBody(key: Buffer, scope: string, idempotencyKey: string, stored: string): string {
  if (!stored.startsWith(BODY_PREFIX)) return stored;
  const [iv, data, tag] = stored.slice(BODY_PREFIX.length).split('.');
  if (!iv || data === undefined || !tag) throw new Error('Unreadable stored idempotent response.');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(aad(scope, idempotencyKey));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
}
