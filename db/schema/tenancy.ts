import { index, pgTable } from 'drizzle-orm/pg-core';
import { at, createdAt, integer, jsonb, metadata, seq, text, updatedAt } from './columns';

/** Tenants are platform objects: no row-level security on this table (it has no tenant_id). */
export const tenants = pgTable(
  'tenants',
  {
    id: text('id').primaryKey(),
    seq: seq(),
    name: text('name').notNull(),
    metadata: metadata(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [index('tenants_seq_idx').on(table.seq)],
);

/**
 * A tenant's payment routing rules (`PUT /v1/tenants/:id/routing`), in order: the first
 * rule matching a payment's method (and currency, when set) names the processors to try.
 * No row: never configured (the deployment's order). A row with `[]`: cleared, with the
 * time it was cleared. Keyed by tenant_id, so row-level security covers it.
 */
export const tenantRouting = pgTable('tenant_routing', {
  tenantId: text('tenant_id')
    .primaryKey()
    .references(() => tenants.id),
  rules: jsonb('rules').$type<Array<{ method: string; currency: string | null; processors: string[] }>>().notNull().default([]),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/**
 * API clients. `tenant_id` is null for platform clients (platform:admin / platform:support).
 * The secret is stored only as a slow hash and never again shown after create or rotate.
 */
export const clients = pgTable(
  'clients',
  {
    id: text('id').primaryKey(),
    seq: seq(),
    tenantId: text('tenant_id').references(() => tenants.id),
    name: text('name').notNull(),
    scopes: text('scopes').array().notNull(),
    secretHash: text('secret_hash').notNull(),
    revokedAt: at('revoked_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [index('clients_tenant_seq_idx').on(table.tenantId, table.seq)],
);

/** JWT signing keys generated in development (production takes NIMBUS_JWT_PRIVATE_JWKS). */
export const signingKeys = pgTable('signing_keys', {
  kid: text('kid').primaryKey(),
  privateJwk: jsonb('private_jwk').$type<Record<string, unknown>>().notNull(),
  createdAt: createdAt(),
  retiredAt: at('retired_at'),
});

/** Generated development secrets (e.g. the fingerprint key), persisted so restarts agree. */
export const systemSecrets = pgTable('system_secrets', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
  createdAt: createdAt(),
});

/** Who did what, when: one row per mutating request, readable by support. */
export const auditEvents = pgTable(
  'audit_events',
  {
    id: text('id').primaryKey(),
    seq: seq(),
    /** Null for platform actions that concern no tenant (creating a tenant is recorded on the new tenant). */
    tenantId: text('tenant_id'),
    clientId: text('client_id'),
    action: text('action').notNull(),
    resourceId: text('resource_id'),
    requestId: text('request_id').notNull(),
    outcome: text('outcome').notNull(),
    status: text('status').notNull(),
    createdAt: createdAt(),
  },
  (table) => [index('audit_events_tenant_seq_idx').on(table.tenantId, table.seq)],
);


/**
 * Failed client authentications per key (client id, source address, both), shared by
 * every replica: rate-limiter-flexible's Drizzle store (plugins/auth/rate-limit.ts).
 * Not tenant data: the token endpoint does not know the tenant yet.
 */
export const authRateLimits = pgTable('auth_rate_limits', {
  key: text('key').primaryKey(),
  points: integer('points').notNull().default(0),
  expire: at('expire'),
});
