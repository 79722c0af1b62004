import { and, eq, isNull } from 'drizzle-orm';
import { type Database, schema, type Tx } from '../../db';
import { parameterInvalid, resourceMissing } from '../../runtime/errors';
import { randomId } from '../../runtime/ids';
import { forgetClient } from '../auth/clients';
import { isPlatformScope, isScope, isTenantScope, PLATFORM_SCOPES, type Scope, TENANT_SCOPES } from '../auth/model';
import { clientSecretKeyFor } from '../auth/secret-key';
import { hashSecret, newClientSecret } from '../auth/secrets';
import { type Client, type ClientWithSecret, METADATA_KEY_MAX, type Tenant } from './model';
import { type ListParams, pageQuery, toPage } from '../../runtime/pagination';

type TenantRow = typeof schema.tenants.$inferSelect;
type ClientRow = typeof schema.clients.$inferSelect;

export function tenantResource(row: TenantRow): Tenant {
  return { id: row.id, object: 'tenant', name: row.name, metadata: row.metadata, created_at: row.createdAt.toISOString() };
}

export function clientResource(row: ClientRow): Client {
  return { id: row.id, object: 'client', name: row.name, scopes: row.scopes.filter(isScope), created_at: row.createdAt.toISOString() };
}

/** A fresh secret and its keyed hash (the key may need a read, so before any transaction opens). */
async function newSecret(database: Database): Promise<{ secret: string; secretHash: string }> {
  const secret = newClientSecret();
  return { secret, secretHash: hashSecret(secret, await clientSecretKeyFor(database)) };
}

async function insertClient(
  tx: Tx,
  input: { tenantId: string | null; name: string; scopes: readonly Scope[] },
  credentials: { secret: string; secretHash: string },
): Promise<ClientWithSecret> {
  const [row] = await tx
    .insert(schema.clients)
    .values({ id: randomId('cli'), tenantId: input.tenantId, name: input.name, scopes: [...input.scopes], secretHash: credentials.secretHash })
    .returning();
  return { ...clientResource(row!), secret: credentials.secret };
}

/** Creates a tenant and its first client, which holds every tenant scope (API.md "Tenants and clients"). */
export async function createTenant(
  database: Database,
  input: { name: string; metadata?: Record<string, string> },
): Promise<Tenant & { client: ClientWithSecret }> {
  for (const key of Object.keys(input.metadata ?? {})) {
    if (key.length === 0 || key.length > METADATA_KEY_MAX) {
      throw parameterInvalid(`metadata.${key}`, `Metadata keys must be 1 to ${METADATA_KEY_MAX} characters.`);
    }
  }
  const tenantId = randomId('ten');
  const credentials = await newSecret(database);
  // One transaction: a tenant never exists without its first client.
  return database.system(async (tx) => {
    const [row] = await tx.insert(schema.tenants).values({ id: tenantId, name: input.name, metadata: input.metadata ?? {} }).returning();
    const client = await insertClient(tx, { tenantId, name: `${input.name} admin`, scopes: TENANT_SCOPES }, credentials);
    return { ...tenantResource(row!), client };
  });
}

export async function getTenant(database: Database, id: string): Promise<Tenant> {
  const rows = await database.system((tx) => tx.select().from(schema.tenants).where(eq(schema.tenants.id, id)).limit(1));
  if (!rows[0]) throw resourceMissing('tenant', id, 'id');
  return tenantResource(rows[0]);
}

async function cursorSeq(tx: Tx, table: typeof schema.tenants | typeof schema.clients, params: ListParams, scope?: ReturnType<typeof eq>) {
  const cursor = params.startingAfter ?? params.endingBefore;
  if (cursor === undefined) return undefined;
  const rows = await tx.select({ seq: table.seq }).from(table).where(and(eq(table.id, cursor), scope)).limit(1);
  if (!rows[0]) throw resourceMissing(table === schema.tenants ? 'tenant' : 'client', cursor, params.startingAfter !== undefined ? 'starting_after' : 'ending_before');
  return rows[0].seq;
}

export async function listTenants(database: Database, params: ListParams): Promise<{ data: Tenant[]; hasMore: boolean }> {
  return database.system(async (tx) => {
    const page = pageQuery(schema.tenants, params, await cursorSeq(tx, schema.tenants, params));
    const rows = await tx.select().from(schema.tenants).where(page.where).orderBy(page.orderBy).limit(page.take);
    const { data, hasMore } = toPage(rows, params.limit, page.reverse);
    return { data: data.map(tenantResource), hasMore };
  });
}

/** Tenant clients may hold tenant scopes only; a platform scope (or an unknown one) is 400 param `scopes`. */
export function validateTenantScopes(scopes: readonly string[]): Scope[] {
  for (const scope of scopes) {
    if (isPlatformScope(scope)) throw parameterInvalid('scopes', `Tenant clients cannot hold the platform scope ${scope}.`);
    if (!isTenantScope(scope)) throw parameterInvalid('scopes', `Unknown scope '${scope}'. Allowed: ${TENANT_SCOPES.join(', ')}.`);
  }
  return [...new Set(scopes)] as Scope[];
}

export async function createClient(database: Database, tenantId: string, input: { name: string; scopes: readonly string[] }): Promise<ClientWithSecret> {
  const scopes = validateTenantScopes(input.scopes);
  const credentials = await newSecret(database);
  return database.tenant(tenantId, (tx) => insertClient(tx, { tenantId, name: input.name, scopes }, credentials));
}

export async function listClients(database: Database, tenantId: string, params: ListParams): Promise<{ data: Client[]; hasMore: boolean }> {
  return database.tenant(tenantId, async (tx) => {
    const scope = eq(schema.clients.tenantId, tenantId);
    const page = pageQuery(schema.clients, params, await cursorSeq(tx, schema.clients, params, scope), [scope, isNull(schema.clients.revokedAt)]);
    const rows = await tx.select().from(schema.clients).where(page.where).orderBy(page.orderBy).limit(page.take);
    const { data, hasMore } = toPage(rows, params.limit, page.reverse);
    return { data: data.map(clientResource), hasMore };
  });
}

async function activeClient(tx: Tx, tenantId: string, id: string): Promise<ClientRow> {
  const rows = await tx
    .select()
    .from(schema.clients)
    .where(and(eq(schema.clients.id, id), eq(schema.clients.tenantId, tenantId), isNull(schema.clients.revokedAt)))
    .limit(1)
    .for('update');
  if (!rows[0]) throw resourceMissing('client', id, 'id');
  return rows[0];
}

/** Revokes a client: new tokens are refused at once, existing ones within the revocation cache window. */
export async function revokeClient(database: Database, tenantId: string, id: string): Promise<{ id: string; object: 'client'; deleted: true }> {
  await database.tenant(tenantId, async (tx) => {
    await activeClient(tx, tenantId, id);
    await tx.update(schema.clients).set({ revokedAt: new Date(), updatedAt: new Date() }).where(eq(schema.clients.id, id));
  });
  forgetClient(database, id);
  return { id, object: 'client', deleted: true };
}

/** A new secret; the old one stops working at once (tokens already issued stay valid until they expire). */
export async function rotateClientSecret(database: Database, tenantId: string, id: string): Promise<ClientWithSecret> {
  const { secret, secretHash } = await newSecret(database);
  return database.tenant(tenantId, async (tx) => {
    await activeClient(tx, tenantId, id);
    const [row] = await tx.update(schema.clients).set({ secretHash, updatedAt: new Date() }).where(eq(schema.clients.id, id)).returning();
    return { ...clientResource(row!), secret };
  });
}

/** A platform client (no tenant), for `nimbus bootstrap` and the development first start. */
export async function createPlatformClient(
  database: Database,
  input: { name: string; scopes?: readonly Scope[] } = { name: 'Platform admin' },
): Promise<ClientWithSecret> {
  const credentials = await newSecret(database);
  return database.system((tx) => insertClient(tx, { tenantId: null, name: input.name, scopes: input.scopes ?? PLATFORM_SCOPES }, credentials));
}
