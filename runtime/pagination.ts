import { Type } from '@sinclair/typebox';
import { and, asc, desc, eq, gt, gte, lt, lte, type SQL } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import { codecOf, type Database, readById, type Tx } from '../db';
import { parameterInvalid, parameterUnknown, resourceMissing } from './errors';

/**
 * The one pagination module: cursor pagination shared by every list route (API.md "Lists"): newest first, by the
 * table's monotonic `seq`, cursors are object ids. Routes declare `ListQueryProperties`
 * (strings, for the OpenAPI document) and call `parseListQuery` for the semantics.
 */

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

/** Query properties every list accepts; spread them into a route's query schema. */
export const ListQueryProperties = {
  limit: Type.Optional(Type.String({ description: 'How many objects to return, 1 to 100 (default 10).', pattern: '^[0-9]+$' })),
  starting_after: Type.Optional(Type.String({ description: 'An object id: return the page just older than it.' })),
  ending_before: Type.Optional(Type.String({ description: 'An object id: return the page just newer than it.' })),
  created_gte: Type.Optional(Type.String({ description: 'RFC 3339 timestamp: only objects created at or after it.', format: 'date-time' })),
  created_lte: Type.Optional(Type.String({ description: 'RFC 3339 timestamp: only objects created at or before it.', format: 'date-time' })),
};

export interface ListParams {
  limit: number;
  startingAfter?: string;
  endingBefore?: string;
  createdGte?: Date;
  createdLte?: Date;
}

export interface ListPage<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
}

function single(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw parameterInvalid(name, `${name} must be given once, as a string.`);
  return value;
}

function timestamp(query: Record<string, unknown>, name: string): Date | undefined {
  const raw = single(query, name);
  if (raw === undefined) return undefined;
  const parsed = RFC3339.test(raw) ? new Date(raw) : undefined;
  if (!parsed || Number.isNaN(parsed.getTime())) {
    throw parameterInvalid(name, `${name} must be an RFC 3339 timestamp such as 2026-11-25T12:00:00.000Z.`);
  }
  return parsed;
}

/** Validates the list parameters; 400 `parameter_invalid` names the offending one. */
export function parseListQuery(query: Record<string, unknown> = {}): ListParams {
  const rawLimit = single(query, 'limit');
  let limit = 10;
  if (rawLimit !== undefined) {
    limit = /^\d{1,3}$/.test(rawLimit) ? Number(rawLimit) : 0;
    if (limit < 1 || limit > 100) throw parameterInvalid('limit', 'limit must be an integer from 1 to 100.');
  }
  const startingAfter = single(query, 'starting_after');
  const endingBefore = single(query, 'ending_before');
  if (startingAfter !== undefined && endingBefore !== undefined) {
    throw parameterInvalid('ending_before', 'starting_after and ending_before are mutually exclusive: send at most one.');
  }
  if (startingAfter === '') throw parameterInvalid('starting_after', 'starting_after must be an object id.');
  if (endingBefore === '') throw parameterInvalid('ending_before', 'ending_before must be an object id.');
  return { limit, startingAfter, endingBefore, createdGte: timestamp(query, 'created_gte'), createdLte: timestamp(query, 'created_lte') };
}

const LIST_PARAMS = ['limit', 'starting_after', 'ending_before', 'created_gte', 'created_lte'];

/**
 * `parseListQuery` for routes whose query arrives untyped: any parameter that is neither
 * a list parameter nor one of the route's `extra` filters is 400 `parameter_unknown`.
 */
export function listParams(query: Record<string, unknown>, extra: readonly string[] = []): ListParams {
  const known = new Set([...LIST_PARAMS, ...extra]);
  for (const name of Object.keys(query)) {
    if (!known.has(name)) throw parameterUnknown(name);
  }
  return parseListQuery(query);
}

/**
 * The WHERE and ORDER BY for one page ordered by `seq`, newest first, for callers that
 * build their own query (joins). `cursorSeq` is the seq of the cursor object (looked up
 * in the same tenant scope, so another tenant's id is simply unknown). `ending_before`
 * walks upwards, then {@link toPage} reverses the page.
 */
export function pageQuery(
  columns: { seq: AnyPgColumn; createdAt: AnyPgColumn },
  params: ListParams,
  cursorSeq: number | undefined,
  filters: Array<SQL | undefined> = [],
): { where: SQL | undefined; orderBy: SQL; take: number; reverse: boolean } {
  const conditions = [...filters];
  if (params.createdGte) conditions.push(gte(columns.createdAt, params.createdGte));
  if (params.createdLte) conditions.push(lte(columns.createdAt, params.createdLte));
  const reverse = params.endingBefore !== undefined;
  if (cursorSeq !== undefined) conditions.push(reverse ? gt(columns.seq, cursorSeq) : lt(columns.seq, cursorSeq));
  return { where: and(...conditions), orderBy: reverse ? asc(columns.seq) : desc(columns.seq), take: params.limit + 1, reverse };
}

/** Trims the extra row fetched to learn `has_more`, and restores newest-first order. */
export function toPage<T>(rows: T[], limit: number, reverse: boolean): { data: T[]; hasMore: boolean } {
  const hasMore = rows.length > limit;
  const data = rows.slice(0, limit);
  if (reverse) data.reverse();
  return { data, hasMore };
}

/** A table that can be paged: an id, a monotonic seq and a creation time. */
export type PageableTable = PgTable & { id: AnyPgColumn; seq: AnyPgColumn; createdAt: AnyPgColumn };

/**
 * One page of `table` (rows already limited to the tenant by RLS and by `filters`).
 * `kind` names the object in the 404 for an unknown cursor (`No such payment: ...`).
 */
export async function listPage<Row>(
  tx: Tx,
  table: PageableTable,
  options: {
    params: ListParams;
    /**
     * The caller's own rows, e.g. `eq(table.tenantId, tenantId)`: applied to the page and
     * to the cursor lookup, so a list never leans on row-level security alone (and the
     * planner can use the `(tenant_id, ...)` indexes).
     */
    scope?: SQL;
    filters?: Array<SQL | undefined>;
    kind: string;
  },
): Promise<{ rows: Row[]; hasMore: boolean }> {
  const { params, kind } = options;
  const cursorId = params.startingAfter ?? params.endingBefore;
  let cursorSeq: number | undefined;
  if (cursorId !== undefined) {
    // The cursor must be an object this caller can see; filters do not apply to it.
    const [cursor] = await tx.select({ seq: table.seq }).from(table as PgTable).where(and(eq(table.id, cursorId), options.scope)).limit(1);
    if (!cursor) throw resourceMissing(kind, cursorId, params.endingBefore !== undefined ? 'ending_before' : 'starting_after');
    cursorSeq = cursor.seq as number;
  }
  const page = pageQuery(table, params, cursorSeq, [options.scope, ...(options.filters ?? [])]);
  const rows = (await tx.select().from(table as PgTable).where(page.where).orderBy(page.orderBy).limit(page.take)) as Row[];
  const { data, hasMore } = toPage(rows, params.limit, page.reverse);
  return { rows: data, hasMore };
}

/** A table of one tenant's objects that can be paged. */
export type TenantPageableTable = PageableTable & { tenantId: AnyPgColumn };

/**
 * One page of a tenant's objects, each read in one round trip on PostgreSQL
 * (Database.tenantRead: the tenant's settings and the SELECT in one message, no
 * transaction): the cursor's seq first when there is a cursor, then the page. The two
 * need no shared snapshot, since an object's seq never changes. Same semantics as
 * {@link listPage}, which stays for callers inside a transaction or across tenants.
 */
export async function listTenantPage<Row>(
  database: Database,
  table: TenantPageableTable,
  tenantId: string,
  options: { params: ListParams; filters?: Array<SQL | undefined>; kind: string },
): Promise<{ rows: Row[]; hasMore: boolean }> {
  const { params, kind } = options;
  const cursorId = params.startingAfter ?? params.endingBefore;
  let cursorSeq: number | undefined;
  if (cursorId !== undefined) {
    const cursor = (await readById(database, table, tenantId, cursorId)) as { seq: number } | undefined;
    if (!cursor) throw resourceMissing(kind, cursorId, params.endingBefore !== undefined ? 'ending_before' : 'starting_after');
    cursorSeq = Number(cursor.seq);
  }
  const page = pageQuery(table, params, cursorSeq, [eq(table.tenantId, tenantId), ...(options.filters ?? [])]);
  const statement = database.db
    .select()
    .from(table as PgTable)
    .where(page.where)
    .orderBy(page.orderBy)
    .limit(page.take)
    .toSQL();
  const codec = codecOf(table);
  const rows = (await database.tenantRead(tenantId, statement.sql, statement.params)).map((raw) => codec.decode(raw) as Row);
  const { data, hasMore } = toPage(rows, params.limit, page.reverse);
  return { rows: data, hasMore };
}

export function listResponse<T>(data: T[], hasMore: boolean): ListPage<T> {
  return { object: 'list', data, has_more: hasMore };
}
