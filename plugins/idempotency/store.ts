import { createHash } from 'node:crypto';
import { and, eq, lt } from 'drizzle-orm';
import { schema, type Database } from '../../db';
import { ApiError, parameterInvalid } from '../../runtime/errors';

/**
 * Idempotency keys (API.md "Idempotency"), stored in PostgreSQL so every replica sees
 * them. A request claims its (scope, key) with one INSERT ... ON CONFLICT DO NOTHING:
 * exactly one of any number of racing requests, on any replica, wins and executes; the
 * others get the stored response, 409 while it runs, or 422 for a different request.
 */

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** How long a key answers replays; API.md promises at least 24 hours. */
export const KEY_TTL_MS = 24 * 3600 * 1000;
/** A claim older than this is a crashed replica's: the key frees up for a retry. */
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

export function requestFingerprint(method: string, path: string, body: unknown): string {
  return createHash('sha256').update(`${method.toUpperCase()} ${path}\n${canonicalJson(body)}`).digest('hex');
}

export interface StoredResponse {
  status: number;
  body: string;
}

export type ClaimResult =
  | { kind: 'claimed'; token: Claim }
  | { kind: 'replay'; response: StoredResponse };

export interface Claim {
  scope: string;
  key: string;
  lockedUntil: Date;
}

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
  fingerprint: string;
  now?: Date;
  lockMs?: number;
}

/** Claims the key for this request, or answers how it must be refused or replayed. */
export async function claimKey(database: Database, input: ClaimInput): Promise<ClaimResult> {
  const now = input.now ?? new Date();
  const lockedUntil = new Date(now.getTime() + (input.lockMs ?? DEFAULT_LOCK_MS));
  const t = schema.idempotencyKeys;
  return database.system(async (tx) => {
    const [inserted] = await tx
      .insert(t)
      .values({
        scope: input.scope,
        key: input.key,
        tenantId: input.tenantId ?? null,
        method: input.method,
        path: input.path,
        requestHash: input.fingerprint,
        state: 'in_progress',
        lockedUntil,
        createdAt: now,
        expiresAt: new Date(now.getTime() + KEY_TTL_MS),
      })
      .onConflictDoNothing()
      .returning({ key: t.key });
    const token = { scope: input.scope, key: input.key, lockedUntil };
    if (inserted) return { kind: 'claimed', token };
    const [existing] = await tx.select().from(t).where(and(eq(t.scope, input.scope), eq(t.key, input.key))).for('update');
    if (!existing) throw keyInUse(); // deleted by the purge between our two statements: let the client retry
    if (existing.expiresAt <= now) {
      // Past its 24 h and not purged yet: a brand-new key.
      await tx
        .update(t)
        .set({ method: input.method, path: input.path, requestHash: input.fingerprint, state: 'in_progress', responseStatus: null, responseBody: null, lockedUntil, createdAt: now, expiresAt: new Date(now.getTime() + KEY_TTL_MS) })
        .where(and(eq(t.scope, input.scope), eq(t.key, input.key)));
      return { kind: 'claimed', token };
    }
    if (existing.requestHash !== input.fingerprint) throw keyReused();
    if (existing.state === 'completed' && existing.responseStatus !== null && existing.responseBody !== null) {
      return { kind: 'replay', response: { status: existing.responseStatus, body: existing.responseBody } };
    }
    if (existing.lockedUntil > now) throw keyInUse();
    // The first request's replica died mid-way: this retry takes the claim over.
    await tx.update(t).set({ lockedUntil }).where(and(eq(t.scope, input.scope), eq(t.key, input.key)));
    return { kind: 'claimed', token };
  });
}

/** Stores the final response of a claimed request, byte for byte. */
export async function completeKey(database: Database, claim: Claim, response: StoredResponse): Promise<void> {
  const t = schema.idempotencyKeys;
  await database.system((tx) =>
    tx
      .update(t)
      .set({ state: 'completed', responseStatus: response.status, responseBody: response.body })
      .where(and(eq(t.scope, claim.scope), eq(t.key, claim.key), eq(t.state, 'in_progress'), eq(t.lockedUntil, claim.lockedUntil))),
  );
}

/** Gives a key back (the request could not run to an answer worth replaying, e.g. a 503). */
export async function releaseKey(database: Database, claim: Claim): Promise<void> {
  const t = schema.idempotencyKeys;
  await database.system((tx) =>
    tx.delete(t).where(and(eq(t.scope, claim.scope), eq(t.key, claim.key), eq(t.state, 'in_progress'), eq(t.lockedUntil, claim.lockedUntil))),
  );
}

/** Deletes keys past their expiry; returns how many. Run by the payments worker. */
export async function purgeExpiredKeys(database: Database, now: Date = new Date()): Promise<number> {
  const t = schema.idempotencyKeys;
  const deleted = await database.system((tx) => tx.delete(t).where(lt(t.expiresAt, now)).returning({ key: t.key }));
  return deleted.length;
}

