import { getTableColumns, getTableName, sql, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { rowsOf, type Database, type Tx } from './client';

/**
 * Statements of the hot paths (a payment's two commits, a GET), written once as text with
 * `$1..$n` parameters, and rows decoded with the drizzle schema's own column mappings.
 *
 * Why not drizzle's query builder there: it builds the SQL text again on every call, and
 * for a table of 30 columns that was 0.1 to 0.6 ms of CPU per statement (a select of one
 * payment cost more than everything else a GET does). Text built once costs nothing per
 * call; on postgres.js the text runs as a named prepared statement of the transaction's
 * connection (db/transactions.ts), so PostgreSQL plans it once per connection as well.
 * Everything else keeps using the builder.
 */

const RUN = Symbol('nimbus.statement-runner');

/** Runs a text statement in a transaction; rows as the database returns them (snake_case columns). */
export type StatementRunner = (text: string, params: readonly unknown[]) => Promise<Array<Record<string, unknown>>>;

/** The transaction factory installs its runner; any other drizzle transaction falls back to `tx.execute`. */
export function attachRunner<T extends object>(tx: T, run: StatementRunner): T {
  (tx as Record<symbol, unknown>)[RUN] = run;
  return tx;
}

/** `$1..$n` text and its values as a drizzle SQL object (the fallback: tests' own transactions, PGlite). */
function asSql(text: string, params: readonly unknown[]): SQL {
  const parts = text.split(/\$(\d+)/);
  const chunks: SQL[] = [sql.raw(parts[0]!)];
  for (let i = 1; i < parts.length; i += 2) {
    // sql.param: one parameter whatever the value (a bare array would become a list).
    chunks.push(sql`${sql.param(params[Number(parts[i]) - 1] ?? null)}`, sql.raw(parts[i + 1]!));
  }
  return sql.join(chunks);
}

export async function runStatement(tx: Tx, text: string, params: readonly unknown[]): Promise<Array<Record<string, unknown>>> {
  const run = (tx as unknown as Record<symbol, StatementRunner | undefined>)[RUN];
  if (run) return run(text, params);
  return rowsOf<Record<string, unknown>>(await tx.execute(asSql(text, params)));
}

/** Values as the driver takes them for a column (json as text, times as ISO strings), null as null. */
export function encode(column: PgColumn, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  return column.mapToDriverValue(value);
}

export interface TableCodec<Row> {
  /** Database column name of a schema key. */
  column(key: keyof Row & string): PgColumn;
  name(key: keyof Row & string): string;
  /** A database row (any subset of columns) as the schema's row type. */
  decode(raw: Record<string, unknown>): Row;
}

/** The schema's column names and decoders for one table, looked up once. */
export function tableCodec<Table extends PgTable>(table: Table): TableCodec<Table['$inferSelect']> {
  const columns = Object.entries(getTableColumns(table)) as Array<[string, PgColumn]>;
  const byKey = new Map(columns);
  return {
    column(key) {
      const column = byKey.get(key);
      if (!column) throw new Error(`no column ${key}`);
      return column;
    },
    name(key) {
      return this.column(key).name;
    },
    decode(raw) {
      const row: Record<string, unknown> = {};
      for (const [key, column] of columns) {
        const value = raw[column.name];
        if (value === undefined) continue;
        row[key] = value === null ? null : column.mapFromDriverValue(value);
      }
      return row as Table['$inferSelect'];
    },
  };
}

const codecs = new WeakMap<PgTable, TableCodec<unknown>>();

/** {@link tableCodec}, built once per table. */
export function codecOf<Table extends PgTable>(table: Table): TableCodec<Table['$inferSelect']> {
  let codec = codecs.get(table);
  if (!codec) {
    codec = tableCodec(table);
    codecs.set(table, codec);
  }
  return codec as TableCodec<Table['$inferSelect']>;
}

const byIdTexts = new WeakMap<PgTable, string>();

/**
 * A GET of one of a tenant's objects: `select * from <table> where tenant_id = $1 and id = $2`,
 * in one round trip on PostgreSQL (Database.tenantRead). The text and the codec are built
 * once per table.
 */
export async function readById<Table extends PgTable>(database: Database, table: Table, tenantId: string, id: string): Promise<Table['$inferSelect'] | undefined> {
  let text = byIdTexts.get(table);
  if (!text) {
    text = `select * from "${getTableName(table)}" where tenant_id = $1 and id = $2`;
    byIdTexts.set(table, text);
  }
  const [row] = await database.tenantRead(tenantId, text, [tenantId, id]);
  return row ? codecOf(table).decode(row) : undefined;
}
