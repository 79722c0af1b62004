import { randomBytes } from 'node:crypto';
import { and, eq, isNotNull, isNull, lt } from 'drizzle-orm';
import { schema, type Database, type Tx } from '../../db';
import { ApiError, parameterInvalid } from '../../runtime/errors';

export { canonicalJson, requestFingerprint } from './sealing';

/**
 * Idempotency keys (API.md "Idempotency"), stored in PostgreSQL so every replica sees
 * them. A request claims its (scope, key) with one INSERT ... ON CONFLICT DO NOTHING:
 * exactly one of any number of racing requests, on any replica, wins and executes; the
 * others get the stored response, 409 while it runs, or 422 for a different request.
 *
 * A claim has an owner token that fences every later write: when a crashed replica's
 * lock runs out and a retry takes the key over, the first request's late writes change
 * nothing. A request that creates an object which then reaches a processor binds the
 * object's id to the key first (in the object's own transaction); from then on the key is
 * never given back, and a retry resumes that object instead of creating a second one
 * (whose new processor-side key would charge twice).
 */

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** How long a key answers replays; API.md promises at least 24 hours. */
export const KEY_TTL_MS = 24 * 3600 * 1000;
/** A claim not renewed for this long is a crashed replica's: a retry may take the key over. */
export const DEFAULT_LOCK_MS = 120_000;

const PRINTABLE_ASCII = /^[\x20-\x7e]{1,255}$/;

/** The header's value if present; 400 `parameter_invalid` (param Idempotency-Key) if malformed. */
export function readIdempotencyKey(request: Request): string | undefined {
  const value = request.headers.get(IDEMPOTENCY_HEADER);
  if (value === null) return undefined;
  if (!PRINTABLE_ASCII.test(value)) {
    throw parameterInvalid(IDEMPOTENCY_HEADER, `${IDEMPOTENCY_HEADER} must be 1 to 255 printable ASCII characters.`);
  }
  return value;
}

/** A response as stored: `body` is sealed (see sealing.ts) before it is written. */
export interface StoredResponse {
  status: number;
  body: string;
}

export interface Claim {
  scope: string;
  key: string;
  /** Fences this request's writes: a takeover gives the key a new owner. */
  owner: string;
  /** The object an earlier request with this key bound before calling a processor: resume it. */
  resumeId: string | null;
}

export type ClaimResult = { kind: 'claimed'; claim: Claim } | { kind: 'replay'; response: StoredResponse };

export function keyReused(): ApiError {
  return new ApiError(422, 'idempotency_error', 'idempotency_key_reused', 'This Idempotency-Key was already used with a different request. Use a new key for a new request.');
}

export function keyInUse(): ApiError {
  return new ApiError(409, 'idempotency_error', 'idempotency_key_in_use', 'A request with this Idempotency-Key is still being processed. Retry shortly.', {
    headers: { 'Retry-After': '1' },
  });
}

export interface ClaimInput {
  scope: string;
  key: string;
  tenantId?: string;
  method: string;
  path: string;
  /** requestFingerprint(): keyed, never a plain hash of the body. */
  fingerprint: string;
  now?: Date;
  lockMs?: number;
}

const keys = schema.idempotencyKeys;
const newOwner = () => randomBytes(12).toString('base64url');
const mine = (claim: Pick<Claim, 'scope' | 'key' | 'owner'>) =>
  and(eq(keys.scope, claim.scope), eq(keys.key, claim.key), eq(keys.owner, claim.owner), eq(keys.state, 'in_progress'));

/** Claims the key for this request, or answers how it must be refused or replayed. */
export async function claimKey(database: Database, input: ClaimInput): Promise<ClaimResult> {
  const now = input.now ?? new Date();
  const lockedUntil = new Date(now.getTime() + (input.lockMs ?? DEFAULT_LOCK_MS));
  const owner = newOwner();
  const thisKey = and(eq(keys.scope, input.scope), eq(keys.key, input.key));
  return database.system(async (tx) => {
    const [inserted] = await tx
      .insert(keys)
      .values({
        scope: input.scope,
        key: input.key,
        tenantId: input.tenantId ?? null,
        method: input.method,
        path: input.path,
        requestHash: input.fingerprint,
        state: 'in_progress',
        owner,
        lockedUntil,
        createdAt: now,
        expiresAt: new Date(now.getTime() + KEY_TTL_MS),
      })
      .onConflictDoNothing()
      .returning({ key: keys.key });
    const fresh: ClaimResult = { kind: 'claimed', claim: { scope: input.scope, key: input.key, owner, resumeId: null } };
    if (inserted) return fresh;
    const [existing] = await tx.select().from(keys).where(thisKey).for('update');
    if (!existing) throw keyInUse(); // deleted by the purge between our two statements: let the client retry
    if (existing.expiresAt <= now) {
      // Past its 24 h and not purged yet: a brand-new key.
      await tx
        .update(keys)
        .set({ method: input.method, path: input.path, requestHash: input.fingerprint, state: 'in_progress', responseStatus: null, responseBody: null, resourceId: null, owner, lockedUntil, createdAt: now, expiresAt: new Date(now.getTime() + KEY_TTL_MS) })
        .where(thisKey);
      return fresh;
    }
    if (existing.requestHash !== input.fingerprint) throw keyReused();
    if (existing.state === 'completed' && existing.responseStatus !== null && existing.responseBody !== null) {
      return { kind: 'replay', response: { status: existing.responseStatus, body: existing.responseBody } };
    }
    if (existing.lockedUntil > now) throw keyInUse();
    // The first request's replica died, or it ended in a 5xx after binding an object: take over.
    await tx.update(keys).set({ owner, lockedUntil }).where(thisKey);
    return { kind: 'claimed', claim: { scope: input.scope, key: input.key, owner, resumeId: existing.resourceId ?? null } };
  });
}

/**
 * Binds the object this request is creating to its claim, in the object's own transaction
 * (so the binding exists exactly when the object does). False when the claim was taken
 * over meanwhile: the caller must roll back rather than create a second object.
 */
export async function bindKey(tx: Tx, claim: Claim, resourceId: string): Promise<boolean> {
  const rows = await tx.update(keys).set({ resourceId }).where(mine(claim)).returning({ key: keys.key });
  return rows.length === 1;
}

/** Stores the final response (body already sealed) in the caller's transaction; false if the claim was lost. */
export async function completeKey(tx: Tx, claim: Claim, response: StoredResponse): Promise<boolean> {
  const rows = await tx
    .update(keys)
    .set({ state: 'completed', responseStatus: response.status, responseBody: response.body })
    .where(mine(claim))
    .returning({ key: keys.key });
  return rows.length === 1;
}

/** Renews a running claim's lock (the heartbeat of a long request); false once it is no longer ours. */
export async function extendKey(database: Database, claim: Claim, lockMs: number, now: Date = new Date()): Promise<boolean> {
  const rows = await database.system((tx) =>
    tx.update(keys).set({ lockedUntil: new Date(now.getTime() + lockMs) }).where(mine(claim)).returning({ key: keys.key }),
  );
  return rows.length === 1;
}

/**
 * After a 5xx. A key with nothing bound is given back: the request may run again. A key
 * bound to an object is never given back (a processor may have been called for it); its
 * lock ends now, so a retry takes it over at once and resumes that object.
 */
export async function releaseKey(database: Database, claim: Claim, now: Date = new Date()): Promise<void> {
  await database.system(async (tx) => {
    await tx.delete(keys).where(and(mine(claim), isNull(keys.resourceId)));
    await tx.update(keys).set({ lockedUntil: now }).where(and(mine(claim), isNotNull(keys.resourceId)));
  });
}

/** Deletes keys past their expiry; returns how many. Run by the payments worker. */
export async function purgeExpiredKeys(database: Database, now: Date = new Date()): Promise<number> {
  const deleted = await database.system((tx) => tx.delete(keys).where(lt(keys.expiresAt, now)).returning({ key: keys.key }));
  return deleted.length;
}
