import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import { type Database, rowsOf } from './client';
import { secureTenantTables } from './rls';

export const MIGRATIONS_FOLDER = join(import.meta.dirname, 'migrations');

/** An arbitrary constant: the advisory lock that serialises migrations across replicas. */
const MIGRATION_LOCK = 7_240_211;

interface Journal {
  entries: Array<{ idx: number; when: number; tag: string }>;
}

function journal(): Journal {
  return JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as Journal;
}

/**
 * Applies pending migrations, then (re)applies row-level security. Replicas starting
 * at once queue on an advisory lock instead of racing each other's DDL.
 */
export async function migrate(database: Database): Promise<void> {
  const { db } = database;
  if (database.kind === 'pglite') {
    await migratePglite(db as never, { migrationsFolder: MIGRATIONS_FOLDER });
    await secureTenantTables(db);
    return;
  }
  await database.exclusive(async (session) => {
    await session.execute(sql`select pg_advisory_lock(${MIGRATION_LOCK})`);
    try {
      await migratePostgres(session as never, { migrationsFolder: MIGRATIONS_FOLDER });
      await secureTenantTables(session);
    } finally {
      await session.execute(sql`select pg_advisory_unlock(${MIGRATION_LOCK})`);
    }
  });
}

/** How many migrations in the journal the database has not applied yet. */
export async function pendingMigrations(database: Database): Promise<number> {
  const entries = journal().entries;
  const [table] = rowsOf<{ exists: boolean }>(
    await database.db.execute(sql`select to_regclass('drizzle.__drizzle_migrations') is not null as exists`),
  );
  if (!table?.exists) return entries.length;
  const applied = new Set(
    rowsOf<{ created_at: string | number }>(
      await database.db.execute(sql`select created_at from drizzle.__drizzle_migrations`),
    ).map((row) => Number(row.created_at)),
  );
  return entries.filter((entry) => !applied.has(entry.when)).length;
}
