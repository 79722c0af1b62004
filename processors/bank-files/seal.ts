import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * The connector's secrets, all derived from one configured key (BANK_FILES_STATE_KEY):
 * - `seal`: AES-256-GCM for what must wait in the processor state but must not be
 *   readable there (debtor accounts until their file is built and for the refund window,
 *   file contents until the bank answered). Each value is bound to its state key as
 *   associated data, so a sealed value copied under another key does not open.
 * - `callback`: HMAC key of the callbacks the connector's plugin hands to
 *   POST /v1/processors/bank-files/webhooks.
 * The key lives in the environment, the ciphertext in the database: a database dump
 * alone reveals no account number.
 */
export type BankFileKeys = { seal: Buffer; callback: Buffer };

export function deriveKeys(secret: string): BankFileKeys {
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', secret, 'nimbuspay-bank-files', info, 32));
  return { seal: derive('state-seal-v1'), callback: derive('callback-hmac-v1') };
}

export function seal(key: Buffer, boundTo: string, value: unknown): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(boundTo));
  const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), data.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

/** Throws when the value was sealed under another key or for another state key, or altered. */
export function unseal<T>(key: Buffer, boundTo: string, sealed: string): T {
  const [version, iv, data, tag] = sealed.split('.');
  if (version !== 'v1' || !iv || !data || !tag) throw new Error('Unreadable sealed value.');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(boundTo));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  const plain = Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]);
  return JSON.parse(plain.toString('utf8')) as T;
}
