import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { schema, type Database } from '../../../db';
import type { PaymentMethodInput as PaymentMethodRequest } from '../../../runtime/registry/index.ts';
import type { Config } from '../../../runtime/config';

/**
 * Secrets of the payments layer: the fingerprint key (configured, or generated once and
 * persisted in development so restarts and replicas agree) and the method vault that
 * holds the raw details of a payment created with `confirm: false` until it is
 * confirmed or canceled. The vault is AES-256-GCM bound to the payment id.
 */

const FINGERPRINT_SECRET = 'fingerprint_key';
const resolved = new WeakMap<Database, Promise<string>>();

export function fingerprintKeyFor(database: Database, config: Pick<Config, 'fingerprintKey'>): Promise<string> {
  if (config.fingerprintKey) return Promise.resolve(config.fingerprintKey);
  let key = resolved.get(database);
  if (!key) {
    key = database.system(async (tx) => {
      await tx
        .insert(schema.systemSecrets)
        .values({ name: FINGERPRINT_SECRET, value: randomBytes(32).toString('base64url') })
        .onConflictDoNothing();
      const [row] = await tx.select().from(schema.systemSecrets).where(eq(schema.systemSecrets.name, FINGERPRINT_SECRET));
      return row!.value;
    });
    key.catch(() => resolved.delete(database));
    resolved.set(database, key);
  }
  return key;
}

function vaultKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'nimbuspay', 'method-vault-v1', 32));
}

export function sealMethod(secret: string, paymentId: string, method: PaymentMethodRequest): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', vaultKey(secret), iv);
  cipher.setAAD(Buffer.from(paymentId));
  const sealed = Buffer.concat([cipher.update(JSON.stringify(method), 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), sealed.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

export function openMethod(secret: string, paymentId: string, sealed: string): PaymentMethodRequest {
  const [version, iv, data, tag] = sealed.split('.');
  if (version !== 'v1' || !iv || !data || !tag) throw new Error('Unreadable method vault entry.');
  const decipher = createDecipheriv('aes-256-gcm', vaultKey(secret), Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(paymentId));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  const plain = Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]);
  return JSON.parse(plain.toString('utf8')) as PaymentMethodRequest;
}

