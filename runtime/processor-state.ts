import { and, asc, eq, like } from 'drizzle-orm';
import { runStatement, schema, type Database } from '../db';
import type { ProcessorState, ProcessorStateFactory } from './registry';

/** `%` and `_` are LIKE wildcards: a key prefix must match literally. */
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
}

const GET_FOR_UPDATE = 'select value from processor_state where processor = $1 and key = $2 for update';
const PUT = `insert into processor_state (processor, key, value) values ($1, $2, $3::jsonb)
  on conflict (processor, key) do update set value = excluded.value, updated_at = now()`;
const DELETE = 'delete from processor_state where processor = $1 and key = $2';

/**
 * Connector state in PostgreSQL (table `processor_state`, one row per processor and key).
 * A transaction reads with FOR UPDATE, so two replicas updating one object serialize.
 * Not tenant data: processors' own records, read and written as the system.
 */
export function databaseProcessorState(database: Database): ProcessorStateFactory {
  const table = schema.processorState;
  return (processor: string): ProcessorState => ({
    async get<T>(key: string) {
      const [row] = await database.system((tx) =>
        tx.select({ value: table.value }).from(table).where(and(eq(table.processor, processor), eq(table.key, key))).limit(1),
      );
      return row?.value as T | undefined;
    },
    async list<T>(prefix: string, limit = 1000) {
      const rows = await database.system((tx) =>
        tx
          .select({ key: table.key, value: table.value })
          .from(table)
          .where(and(eq(table.processor, processor), like(table.key, likePrefix(prefix))))
          .orderBy(asc(table.key))
          .limit(limit),
      );
      return rows.map((row) => ({ key: row.key, value: row.value as T }));
    },
    // Fixed statements (db/statements.ts): a connector's ledger is on a payment's path.
    transaction(fn) {
      return database.system((tx) =>
        fn({
          async get<T>(key: string) {
            const [row] = await runStatement(tx, GET_FOR_UPDATE, [processor, key]);
            return row?.value as T | undefined;
          },
          async put(key, value) {
            await runStatement(tx, PUT, [processor, key, JSON.stringify(value)]);
          },
          async delete(key) {
            await runStatement(tx, DELETE, [processor, key]);
          },
        }),
      );
    },
  });
}
