import { jsonb, pgTable, primaryKey } from 'drizzle-orm/pg-core';
import { text, updatedAt } from './columns';

/**
 * What connectors keep of their own, by processor and key (the simulator's ledger, a
 * bank-file connector's batches): see runtime/processor-state.ts. Not tenant data, so no
 * tenant_id and no row-level security; only the system role touches it.
 */
export const processorState = pgTable(
  'processor_state',
  {
    processor: text('processor').notNull(),
    key: text('key').notNull(),
    value: jsonb('value').notNull(),
    updatedAt: updatedAt(),
  },
  (table) => [primaryKey({ columns: [table.processor, table.key] })],
);
