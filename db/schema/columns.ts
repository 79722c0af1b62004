import { bigint, integer, jsonb, text, timestamp } from 'drizzle-orm/pg-core';

/** Shared column builders, so every table spells time, money and ordering the same way. */

export const createdAt = () => timestamp('created_at', { withTimezone: true, precision: 3, mode: 'date' }).notNull().defaultNow();
export const updatedAt = () => timestamp('updated_at', { withTimezone: true, precision: 3, mode: 'date' }).notNull().defaultNow();
export const at = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: 'date' });

/** Money in integer minor units. `bigint` in SQL, a JS number in code (amounts stay far below 2^53). */
export const money = (name: string) => bigint(name, { mode: 'number' });

/**
 * A monotonic sequence number for "newest first" lists and cursors: two objects created
 * in the same millisecond still have a total order, and cursors never skip or repeat.
 */
export const seq = () => bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity().notNull();

export const metadata = () => jsonb('metadata').$type<Record<string, string>>().notNull().default({});
export const tenantId = () => text('tenant_id').notNull();

export { integer, jsonb, text };
