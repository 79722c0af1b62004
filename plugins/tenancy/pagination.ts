import { and, asc, desc, gt, gte, lt, lte, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { parameterInvalid, parameterUnknown } from '../../runtime/errors';

/** A validated list request (API.md "Lists"). */
export interface ListParams {
  limit: number;
  startingAfter?: string;
  endingBefore?: string;
  createdGte?: Date;
  createdLte?: Date;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function timestamp(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (!RFC3339.test(value) || Number.isNaN(date.getTime())) throw parameterInvalid(name, `${name} must be an RFC 3339 timestamp.`);
  return date;
}

/** Validates the list query strings: limit 1..100 (default 10), cursors mutually exclusive, inclusive time filters. */
export function listParams(query: Record<string, string | undefined>, extra: readonly string[] = []): ListParams {
  const known = new Set(['limit', 'starting_after', 'ending_before', 'created_gte', 'created_lte', ...extra]);
  for (const name of Object.keys(query)) {
    if (!known.has(name)) throw parameterUnknown(name);
  }
  let limit = 10;
  if (query.limit !== undefined) {
    if (!/^\d{1,3}$/.test(query.limit) || Number(query.limit) < 1 || Number(query.limit) > 100) {
      throw parameterInvalid('limit', 'limit must be an integer from 1 to 100.');
    }
    limit = Number(query.limit);
  }
  if (query.starting_after !== undefined && query.ending_before !== undefined) {
    throw parameterInvalid('ending_before', 'starting_after and ending_before are mutually exclusive.');
  }
  return {
    limit,
    startingAfter: query.starting_after,
    endingBefore: query.ending_before,
    createdGte: timestamp('created_gte', query.created_gte),
    createdLte: timestamp('created_lte', query.created_lte),
  };
}

/**
 * The WHERE and ORDER BY for one page ordered by `seq`, newest first. `cursorSeq` is the
 * seq of the cursor object (the caller looks it up in the same tenant scope, so another
 * tenant's id is simply unknown). `ending_before` walks upwards, then the page is reversed.
 */
export function pageQuery(
  columns: { seq: PgColumn; createdAt: PgColumn },
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
