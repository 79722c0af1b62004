import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema';
import { runStatement } from './statements';
import { pipelinedTransactions, type StatementObserver } from './transactions';

export type { StatementObserver } from './transactions';

export type Schema = typeof schema;
/** The drizzle API, the same whichever driver sits underneath. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema>;

/** The role every request transaction runs as, so row-level security applies even to a superuser connection. */
export const APP_ROLE = 'nimbus_app';

export interface Database {
  readonly kind: 'pglite' | 'postgres';
  /** Raw drizzle, for migrations and health checks only: application queries go through `tenant` or `system`. */
  readonly db: Db;
  /**
   * Runs `fn` in one transaction as the application role, with row-level security
   * scoped to `tenantId`: a query that forgets its tenant filter still sees only this
   * tenant's rows.
   */
  tenant<T>(tenantId: string, fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * One read-only statement (`$1..$n` text, db/statements.ts) scoped to `tenantId` like
   * `tenant`, rows as the database returns them. On PostgreSQL it costs one round trip
   * instead of a transaction's three (db/transactions.ts `read`): for GETs.
   */
  tenantRead(tenantId: string, text: string, params: readonly unknown[]): Promise<Array<Record<string, unknown>>>;
  /** Runs `fn` in one transaction as the application role with access across tenants (platform routes, workers). */
  system<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Resolves when the database answers within `timeoutMs`. */
  ping(timeoutMs?: number): Promise<void>;
  /** Runs `fn` on one dedicated connection (session-level locks such as the migration lock need that). */
  exclusive<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  /** Subscribes to NOTIFY on a channel; returns the unsubscribe function. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres.js connection string; without it the embedded PGlite is used. */
  url?: string;
  /** PGlite data directory; `memory://` (or undefined) keeps it in memory. */
  dataDir?: string;
  /** An existing PGlite instance (tests clone a migrated template). */
  pglite?: PGlite;
  /** postgres.js pool size. */
  maxConnections?: number;
  /** Told about every transaction and statement of `tenant` and `system` (tests count them per request). */
  observer?: StatementObserver;
}

/**
 * PGlite runs in this process: a statement costs no network round trip, so its
 * transactions stay drizzle's. Become the application role and pin the tenant for this
 * transaction only, in the statement before the first of `fn`.
 */
async function scoped<T>(db: Db, settings: { tenant?: string; system?: boolean }, fn: (tx: Tx) => Promise<T>, observer?: StatementObserver): Promise<T> {
  observer?.transaction?.(settings.system ? 'system' : 'tenant');
  observer?.statement?.('begin');
  try {
    const result = await db.transaction(async (tx) => {
      await tx.execute(
        sql`select set_config('role', ${APP_ROLE}, true), set_config('nimbus.tenant_id', ${settings.tenant ?? ''}, true), set_config('nimbus.system', ${settings.system ? 'on' : 'off'}, true)`,
      );
      return fn(tx as Tx);
    });
    observer?.statement?.('commit');
    return result;
  } catch (error) {
    observer?.statement?.('rollback');
    throw error;
  }
}

/** Reports drizzle's statements to the observer (PGlite; postgres.js reports them from its transactions). */
function observingLogger(observer: StatementObserver | undefined) {
  return observer?.statement ? { logQuery: (query: string) => observer.statement!(query) } : undefined;
}

/** db/ sits below runtime/ (test/architecture): its own copy of runtime/timeout.ts. */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

export function createPgliteDatabase(options: DatabaseOptions = {}): Database {
  let client = options.pglite;
  if (!client) {
    const dir = options.dataDir && options.dataDir !== 'memory://' ? options.dataDir : undefined;
    if (dir) mkdirSync(dir, { recursive: true });
    client = new PGlite(dir);
  }
  const pg = client;
  const db = drizzlePglite({ client: pg, schema }) as unknown as Db;
  const observed = options.observer ? (drizzlePglite({ client: pg, schema, logger: observingLogger(options.observer) }) as unknown as Db) : db;
  return {
    kind: 'pglite',
    db,
    tenant: (tenantId, fn) => scoped(observed, { tenant: tenantId }, fn, options.observer),
    tenantRead: (tenantId, text, params) => scoped(observed, { tenant: tenantId }, (tx) => runStatement(tx, text, params), options.observer),
    system: (fn) => scoped(observed, { system: true }, fn, options.observer),
    ping: async (timeoutMs = 2000) => {
      await withTimeout(pg.query('select 1'), timeoutMs, 'the database did not answer');
    },
    exclusive: (fn) => fn(db),
    listen: async (channel, onNotify) => pg.listen(channel, onNotify),
    close: async () => {
      if (!pg.closed) await pg.close();
    },
  };
}

/** Seconds before the pool's next connection attempt after `attempts` failed ones: 25 ms doubling, at most 0.5 s, jittered. */
export function reconnectBackoff(attempts: number): number {
  return Math.min(0.025 * 2 ** attempts, 0.5) * (0.5 + Math.random() / 2);
}

function tenantSettings(tenantId: string) {
  return { kind: 'tenant', role: APP_ROLE, tenant: tenantId, system: false } as const;
}

export function createPostgresDatabase(url: string, options: DatabaseOptions = {}): Database {
  const client = postgres(url, {
    max: options.maxConnections ?? 10,
    connect_timeout: 5,
    idle_timeout: 30,
    // postgres.js waits (0.5..1) * min(3^n / 100, 20) s before reconnecting, n counting every
    // failed attempt of the pool: a few seconds of outage left a busy server without its
    // database for up to 20 s after it was back. Reconnect within half a second instead
    // (test/reliability/database-reconnect.test.ts).
    backoff: reconnectBackoff,
    onnotice: () => {},
    // Statements run prepared (db/transactions.ts): parsed once per connection, but planned
    // for their actual values every time. A generic plan sorted every one of a tenant's
    // payments instead of walking the (tenant_id, seq) index for a page of ten (the LIMIT
    // is a parameter): planning is cheap, a wrong plan is not.
    connection: { plan_cache_mode: 'force_custom_plan' },
  });
  const db = drizzlePostgres({ client, schema }) as unknown as Db;
  const transactions = pipelinedTransactions(client, db, options.observer);
  return {
    kind: 'postgres',
    db,
    tenant: (tenantId, fn) => transactions.run(tenantSettings(tenantId), fn),
    tenantRead: (tenantId, text, params) => transactions.read(tenantSettings(tenantId), text, params),
    system: (fn) => transactions.run({ kind: 'system', role: APP_ROLE, tenant: '', system: true }, fn),
    ping: async (timeoutMs = 2000) => {
      await withTimeout(client`select 1`, timeoutMs, 'the database did not answer');
    },
    exclusive: async (fn) => {
      const single = postgres(url, { max: 1, connect_timeout: 5, onnotice: () => {} });
      try {
        return await fn(drizzlePostgres({ client: single, schema }) as unknown as Db);
      } finally {
        await single.end({ timeout: 5 });
      }
    },
    listen: async (channel, onNotify) => {
      const subscription = await client.listen(channel, onNotify);
      return () => subscription.unlisten();
    },
    close: async () => {
      await client.end({ timeout: 5 });
    },
  };
}

export function createDatabase(options: DatabaseOptions): Database {
  return options.url ? createPostgresDatabase(options.url, options) : createPgliteDatabase(options);
}

/** `db.execute` answers `{ rows }` on PGlite and an array on postgres.js; this reads either. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}
