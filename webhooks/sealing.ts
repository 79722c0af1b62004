import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { type Database, schema } from '../db';
import { keyMaterial } from '../runtime/config';

/**
 * Webhook signing secrets at rest. HMAC needs the secret itself, so it cannot be hashed
 * like a client secret; it is sealed with AES-256-GCM instead, under a key from
 * NIMBUS_WEBHOOK_SECRET_KEYS, and bound to its endpoint id (a value copied to another
 * row does not open). Stored form: `v1:<kid>:<iv>:<ciphertext+tag>` (base64url parts),
 * where `kid` names the key, so after a key rotation rows of the old key still open as
 * long as that key is listed. Rows written before encryption hold the `whsec_` text
 * itself: they are read as they are and sealed at their next write (rotation, update,
 * or `nimbus reencrypt-webhook-secrets`).
 */

export interface SealingKey {
  kid: string;
  key: Buffer;
}

/** The first key seals; every key opens. */
export interface Keyring {
  readonly keys: readonly SealingKey[];
}

/** A stored secret that cannot be opened: never sign without it, never fall back to nothing. */
export class SecretUnreadable extends Error {
  constructor(
    readonly endpointId: string,
    readonly kid: string | undefined,
    reason: string,
  ) {
    super(`The signing secret of webhook endpoint '${endpointId}' cannot be decrypted: ${reason}`);
    this.name = 'SecretUnreadable';
  }
}

const VERSION = 'v1';
const SALT = 'nimbuspay';
const PLAINTEXT_PREFIX = 'whsec_';

function derive(material: Buffer, info: string, length: number): Buffer {
  return Buffer.from(hkdfSync('sha256', material, SALT, info, length));
}

/**
 * One configured key: the AES key and its id both come from the key text through HKDF
 * (separate `info`), so the id is stable, needs no configuring, and says nothing usable
 * about the key.
 */
export function sealingKey(text: string): SealingKey {
  const material = keyMaterial(text);
  return {
    kid: derive(material, 'webhook-secret-kid-v1', 6).toString('base64url'),
    key: derive(material, 'webhook-secret-key-v1', 32),
  };
}

export function keyringOf(texts: readonly string[]): Keyring {
  if (texts.length === 0) throw new Error('A keyring needs at least one key.');
  return { keys: texts.map(sealingKey) };
}

export function sealSecret(ring: Keyring, endpointId: string, secret: string): string {
  const { kid, key } = ring.keys[0]!;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(endpointId, 'utf8'));
  const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return [VERSION, kid, iv.toString('base64url'), sealed.toString('base64url')].join(':');
}

/** The `whsec_` secret of a stored value: sealed (any listed key) or, from before encryption, plain. */
export function openSecret(ring: Keyring, endpointId: string, stored: string): string {
  if (stored.startsWith(PLAINTEXT_PREFIX)) return stored;
  const [version, kid, iv, sealed, extra] = stored.split(':');
  if (version !== VERSION || !kid || !iv || !sealed || extra !== undefined) {
    throw new SecretUnreadable(endpointId, undefined, 'the stored value is in no known format.');
  }
  const key = ring.keys.find((candidate) => candidate.kid === kid);
  if (!key) {
    const listed = ring.keys.map((candidate) => candidate.kid).join(', ');
    throw new SecretUnreadable(endpointId, kid, `it was encrypted with key id '${kid}', which is not among the configured keys (${listed}): check NIMBUS_WEBHOOK_SECRET_KEYS.`);
  }
  const bytes = Buffer.from(sealed, 'base64url');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(endpointId, 'utf8'));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretUnreadable(endpointId, kid, `authentication failed under key id '${kid}' (altered, or copied from another endpoint).`);
  }
}

/** Whether a stored value is anything but sealed under the current (first) key. */
export function needsReseal(ring: Keyring, stored: string): boolean {
  return !stored.startsWith(`${VERSION}:${ring.keys[0]!.kid}:`);
}

/**
 * The stored value sealed under the current key: unchanged when it already is, else sealed
 * again. Opened either way, so a value that only looks current (copied from another
 * endpoint, altered) throws SecretUnreadable here rather than passing as good.
 */
export function resealed(ring: Keyring, endpointId: string, stored: string): string {
  const secret = openSecret(ring, endpointId, stored);
  return needsReseal(ring, stored) ? sealSecret(ring, endpointId, secret) : stored;
}

const DEVELOPMENT_KEY = 'webhook_secret_key';
const persisted = new WeakMap<Database, Promise<Keyring>>();
const configured = new Map<string, Keyring>();

/**
 * The keyring of a process: NIMBUS_WEBHOOK_SECRET_KEYS when set (required outside
 * development), else one key generated once and kept in `system_secrets`, so restarts,
 * replicas and the CLI of a development database agree on it.
 */
export function keyringFor(database: Database, keys: readonly string[] | undefined): Promise<Keyring> {
  if (keys && keys.length > 0) {
    const id = keys.join(',');
    let ring = configured.get(id);
    if (!ring) {
      ring = keyringOf(keys);
      configured.set(id, ring);
    }
    return Promise.resolve(ring);
  }
  let ring = persisted.get(database);
  if (!ring) {
    ring = database.system(async (tx) => {
      // Two processes starting at once may both generate: the first insert wins, both read it back.
      await tx
        .insert(schema.systemSecrets)
        .values({ name: DEVELOPMENT_KEY, value: randomBytes(32).toString('base64') })
        .onConflictDoNothing();
      const [row] = await tx.select().from(schema.systemSecrets).where(eq(schema.systemSecrets.name, DEVELOPMENT_KEY));
      return keyringOf([row!.value]);
    });
    ring.catch(() => persisted.delete(database));
    persisted.set(database, ring);
  }
  return ring;
}
