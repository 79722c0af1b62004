import { and, asc, eq, like, sql } from 'drizzle-orm';
import { schema, type Database } from '../db';
import type { ProcessorState, ProcessorStateFactory } from './registry';

/** `%` and `_` are LIKE wildcards: a key prefix must match literally. */
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
}

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
    transaction(fn) {
      return database.system((tx) =>
        fn({
          async get<T>(key: string) {
            const [row] = await tx
              .select({ value: table.value })
              .from(table)
              .where(and(eq(table.processor, processor), eq(table.key, key)))
              .limit(1)
              .for('update');
            return row?.value as T | undefined;
          },
          async put(key, value) {
            await tx
              .insert(table)
              .values({ processor, key, value })
              .onConflictDoUpdate({ target: [table.processor, table.key], set: { value, updatedAt: sql`now()` } });
          },
          async delete(key) {
            await tx.delete(table).where(and(eq(table.processor, processor), eq(table.key, key)));
          },
        }),
      );
    },
  });
}
