import { eq } from 'drizzle-orm';
import { type Database, schema } from '../../db';

/** What authentication needs to know about a client. */
export interface ClientRecord {
  id: string;
  tenantId: string | null;
  scopes: string[];
  secretHash: string;
  revokedAt: Date | null;
}

/** Reads a client across tenants (the token endpoint does not know the tenant yet). */
export async function findClient(database: Database, id: string): Promise<ClientRecord | undefined> {
  const rows = await database.system((tx) =>
    tx
      .select({
        id: schema.clients.id,
        tenantId: schema.clients.tenantId,
        scopes: schema.clients.scopes,
        secretHash: schema.clients.secretHash,
        revokedAt: schema.clients.revokedAt,
      })
      .from(schema.clients)
      .where(eq(schema.clients.id, id))
      .limit(1),
  );
  return rows[0];
}

/**
 * How long a replica trusts its memory of "this client is not revoked". Revocation
 * through this process clears the entry at once; other replicas notice within this
 * window, far inside any token lifetime (>= 60 s).
 */
export const REVOCATION_CACHE_MS = 5_000;

interface CacheEntry {
  active: boolean;
  until: number;
}

const caches = new WeakMap<Database, Map<string, CacheEntry>>();

function cacheOf(database: Database): Map<string, CacheEntry> {
  let cache = caches.get(database);
  if (!cache) {
    cache = new Map();
    caches.set(database, cache);
  }
  return cache;
}

/** True when the client exists and is not revoked (cached briefly; see REVOCATION_CACHE_MS). */
export async function clientIsActive(database: Database, id: string): Promise<boolean> {
  const cache = cacheOf(database);
  const now = Date.now();
  const hit = cache.get(id);
  if (hit && hit.until > now) return hit.active;
  const client = await findClient(database, id);
  const active = client !== undefined && client.revokedAt === null;
  // A revoked client never comes back: remember that for good.
  cache.set(id, { active, until: active ? now + REVOCATION_CACHE_MS : Number.POSITIVE_INFINITY });
  if (cache.size > 10_000) cache.delete(cache.keys().next().value!);
  return active;
}

/** Called by revocation so this process refuses the client's tokens immediately. */
export function forgetClient(database: Database, id: string): void {
  cacheOf(database).set(id, { active: false, until: Number.POSITIVE_INFINITY });
}

const knownTenants = new WeakMap<Database, Set<string>>();

/** Whether a tenant exists (tenants are never deleted, so a positive answer is cached for good). */
export async function tenantExists(database: Database, id: string): Promise<boolean> {
  let known = knownTenants.get(database);
  if (!known) {
    known = new Set();
    knownTenants.set(database, known);
  }
  if (known.has(id)) return true;
  const rows = await database.system((tx) =>
    tx.select({ id: schema.tenants.id }).from(schema.tenants).where(eq(schema.tenants.id, id)).limit(1),
  );
  if (rows.length === 0) return false;
  known.add(id);
  return true;
}

/** Replaces a hash from before the keyed hash (argon2id) after a successful check with it. */
export async function upgradeSecretHash(database: Database, id: string, secretHash: string): Promise<void> {
  await database.system((tx) => tx.update(schema.clients).set({ secretHash }).where(eq(schema.clients.id, id)));
}
