import { randomBytes } from 'node:crypto';
import { and, eq, isNotNull, isNull, lt } from 'drizzle-orm';
import { encode, runStatement, schema, type Database, type Tx } from '../../db';
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
 * nothing. A request that creates an object which then reaches a processor claims the
 * key with the object's id already bound, in the object's own transaction; from then on
 * the key is never given back, and a retry resumes that object instead of creating a
 * second one (whose new processor-side key would charge twice).
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
  return database.system((tx) => claimIn(tx, input));
}

function record(input: ClaimInput, owner: string, now: Date, resourceId: string | null) {
  return {
    scope: input.scope,
    key: input.key,
    tenantId: input.tenantId ?? null,
    method: input.method,
    path: input.path,
    requestHash: input.fingerprint,
    state: 'in_progress',
    owner,
    lockedUntil: new Date(now.getTime() + (input.lockMs ?? DEFAULT_LOCK_MS)),
    resourceId,
    createdAt: now,
    expiresAt: new Date(now.getTime() + KEY_TTL_MS),
  };
}

/**
 * `claimKey` in the caller's transaction. `resourceId`: the object this request is about
 * to create, bound in the same statement that claims the key (a request that takes over
 * a key bound to an earlier object gets that one back in `resumeId` instead).
 */
export async function claimIn(tx: Tx, input: ClaimInput, resourceId: string | null = null, options: { taken?: boolean } = {}): Promise<ClaimResult> {
  const now = input.now ?? new Date();
  const owner = newOwner();
  const values = record(input, owner, now, resourceId);
  const thisKey = and(eq(keys.scope, input.scope), eq(keys.key, input.key));
  const fresh: ClaimResult = { kind: 'claimed', claim: { scope: input.scope, key: input.key, owner, resumeId: null } };
  // `taken`: a claim just lost to a record: read it first (an INSERT would only conflict again).
  if (!options.taken && (await tryClaim(tx, input, owner, resourceId, now))) return fresh;
  const [existing] = await tx.select().from(keys).where(thisKey).for('update');
  if (!existing) {
    // Deleted by the purge since: the key is free again (or taken this very moment: let the client retry).
    if (options.taken && (await tryClaim(tx, input, owner, resourceId, now))) return fresh;
    throw keyInUse();
  }
  if (existing.expiresAt <= now) {
    // Past its 24 h and not purged yet: a brand-new key.
    await tx
      .update(keys)
      .set({ ...values, responseStatus: null, responseBody: null })
      .where(thisKey);
    return fresh;
  }
  if (existing.requestHash !== input.fingerprint) throw keyReused();
  if (existing.state === 'completed' && existing.responseStatus !== null && existing.responseBody !== null) {
    return { kind: 'replay', response: { status: existing.responseStatus, body: existing.responseBody } };
  }
  if (existing.lockedUntil > now) throw keyInUse();
  // The first request's replica died, or it ended in a 5xx after binding an object: take over.
  const resumeId = existing.resourceId ?? null;
  await tx
    .update(keys)
    .set({ owner, lockedUntil: values.lockedUntil, ...(resumeId === null && resourceId !== null ? { resourceId } : {}) })
    .where(thisKey);
  return { kind: 'claimed', claim: { scope: input.scope, key: input.key, owner, resumeId } };
}

const CLAIM_SQL = `insert into idempotency_keys (scope, key, tenant_id, method, path, request_hash, state, owner, locked_until, resource_id, created_at, expires_at)
  values ($1, $2, $3, $4, $5, $6, 'in_progress', $7, $8, $9, $10, $11)
  on conflict do nothing returning key`;

/**
 * The claim as one statement whose answer is read later: it can travel with the
 * request's first writes (the caller rolls them back when it lost). True when this
 * request now holds the key, bound to `resourceId`.
 */
export async function tryClaim(tx: Tx, input: ClaimInput, owner: string, resourceId: string | null, now: Date = input.now ?? new Date()): Promise<boolean> {
  const values = record(input, owner, now, resourceId);
  const rows = await runStatement(tx, CLAIM_SQL, [
    values.scope,
    values.key,
    values.tenantId,
    values.method,
    values.path,
    values.requestHash,
    owner,
    encode(keys.lockedUntil, values.lockedUntil),
    resourceId,
    encode(keys.createdAt, now),
    encode(keys.expiresAt, values.expiresAt),
  ]);
  return rows.length === 1;
}

export { newOwner };

const COMPLETE_SQL = `update idempotency_keys set state = 'completed', response_status = $1, response_body = $2
  where scope = $3 and key = $4 and owner = $5 and state = 'in_progress' returning key`;

/** Stores the final response (body already sealed) in the caller's transaction; false if the claim was lost. */
export async function completeKey(tx: Tx, claim: Claim, response: StoredResponse): Promise<boolean> {
  const rows = await runStatement(tx, COMPLETE_SQL, [response.status, response.body, claim.scope, claim.key, claim.owner]);
  return rows.length === 1;
}

/**
 * The answer of a request that does not hold the key (it failed before claiming it, or
 * its claim rolled back with the rest of its first transaction). Stored when the key is
 * free (or expired), as if the request had claimed it first; otherwise the key's record
 * decides, exactly as a claim would have: the stored answer is replayed, another
 * request is 422, a running one 409. A lapsed claim whose object waits to be resumed is
 * left for the retry that resumes it (`kept`: this answer is sent, not stored).
 */
export async function storeAnswer(tx: Tx, input: ClaimInput, response: StoredResponse): Promise<{ kind: 'stored' | 'kept' } | { kind: 'replay'; response: StoredResponse }> {
  const now = input.now ?? new Date();
  const completed = { state: 'completed', responseStatus: response.status, responseBody: response.body, owner: null, resourceId: null };
  const [inserted] = await tx
    .insert(keys)
    .values({ ...record(input, newOwner(), now, null), ...completed })
    .onConflictDoNothing()
    .returning({ key: keys.key });
  if (inserted) return { kind: 'stored' };
  const thisKey = and(eq(keys.scope, input.scope), eq(keys.key, input.key));
  const [existing] = await tx.select().from(keys).where(thisKey).for('update');
  if (!existing) return { kind: 'kept' };
  if (existing.expiresAt <= now) {
    await tx.update(keys).set({ ...record(input, newOwner(), now, null), ...completed }).where(thisKey);
    return { kind: 'stored' };
  }
  if (existing.requestHash !== input.fingerprint) throw keyReused();
  if (existing.state === 'completed' && existing.responseStatus !== null && existing.responseBody !== null) {
    return { kind: 'replay', response: { status: existing.responseStatus, body: existing.responseBody } };
  }
  if (existing.lockedUntil > now) throw keyInUse();
  if (existing.resourceId !== null) return { kind: 'kept' };
  await tx.update(keys).set({ ...completed, lockedUntil: now }).where(thisKey);
  return { kind: 'stored' };
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
