import { type Database, encode, runStatement, schema, tableCodec, type Tx } from '../../../db';
import { resourceMissing } from '../../../runtime/errors';
import { toPage, type ListParams } from '../../../runtime/pagination';
import type { PaymentStatus } from '../model';
import type { PaymentRow } from './resource';

/**
 * The payments table's statements on the request paths, as text built once per shape
 * (db/statements.ts says why not the query builder). Every statement names the tenant.
 */

export type PaymentValues = typeof schema.payments.$inferInsert;
export type PaymentPatch = Partial<PaymentValues>;

/** Extra conditions of a guarded update, beyond tenant and id. */
export interface PaymentGuard {
  /** The statuses the payment may be in (the state machine's sources of the target). */
  from?: readonly PaymentStatus[];
  /** `pending_action` must be this (null: no capture or cancel waiting). */
  pendingAction?: 'capture' | 'cancel' | null;
  /** `processing_announced` must be this. */
  processingAnnounced?: boolean;
}

const codec = tableCodec(schema.payments);

/** Every column an insert names (all of them but the generated `seq`), in a fixed order. */
const INSERT_KEYS = [
  'id', 'tenantId', 'status', 'amount', 'currency', 'captureMethod', 'amountCapturable', 'amountReceived', 'amountRefunded',
  'methodType', 'paymentMethod', 'methodVault', 'processor', 'processorReference', 'processorAttempts', 'failure',
  'description', 'metadata', 'cancellationReason', 'pendingAction', 'pendingAmount', 'processingAnnounced', 'captureBefore',
  'nextSyncAt', 'syncAttempts', 'syncNotFound', 'createdAt', 'updatedAt',
] as const satisfies ReadonlyArray<keyof PaymentValues>;

const INSERT_SQL = `insert into payments (${INSERT_KEYS.map((key) => codec.name(key)).join(', ')})
  values (${INSERT_KEYS.map((_, i) => `$${i + 1}`).join(', ')}) returning *`;

const SELECT_SQL = 'select * from payments where tenant_id = $1 and id = $2';
const SELECT_FOR_UPDATE_SQL = `${SELECT_SQL} for update`;

/** The row a new payment will have, every column given (defaults of the schema filled in here). */
export function newPaymentRow(values: PaymentValues, now: Date): PaymentRow {
  return {
    amountCapturable: 0,
    amountReceived: 0,
    amountRefunded: 0,
    methodVault: null,
    processor: null,
    processorReference: null,
    processorAttempts: [],
    failure: null,
    description: null,
    metadata: {},
    cancellationReason: null,
    pendingAction: null,
    pendingAmount: null,
    processingAnnounced: false,
    captureBefore: null,
    nextSyncAt: null,
    syncAttempts: 0,
    syncNotFound: 0,
    createdAt: now,
    updatedAt: now,
    ...values,
    seq: 0,
  } as PaymentRow;
}

export async function insertPaymentRow(tx: Tx, row: PaymentRow): Promise<PaymentRow> {
  const params = INSERT_KEYS.map((key) => encode(codec.column(key), row[key]));
  const [inserted] = await runStatement(tx, INSERT_SQL, params);
  return codec.decode(inserted!);
}

export async function selectPayment(tx: Tx, tenantId: string, id: string, lock = false): Promise<PaymentRow | undefined> {
  const [row] = await runStatement(tx, lock ? SELECT_FOR_UPDATE_SQL : SELECT_SQL, [tenantId, id]);
  return row ? codec.decode(row) : undefined;
}

const updates = new Map<string, { text: string; keys: readonly string[] }>();

function guardSql(guard: PaymentGuard): string {
  const parts: string[] = [];
  if (guard.from) parts.push(`status in (${guard.from.map((status) => `'${status}'`).join(', ')})`);
  if (guard.pendingAction === null) parts.push('pending_action is null');
  else if (guard.pendingAction) parts.push(`pending_action = '${guard.pendingAction}'`);
  if (guard.processingAnnounced !== undefined) parts.push(`processing_announced = ${guard.processingAnnounced}`);
  return parts.map((part) => ` and ${part}`).join('');
}

/** `update payments set <keys>, updated_at = now() where tenant and id <guard> returning *`, built once per shape. */
function updateShape(keys: readonly string[], guard: PaymentGuard) {
  const shape = `${keys.join(',')}|${guardSql(guard)}`;
  let statement = updates.get(shape);
  if (!statement) {
    // Statuses and pending actions come from the code (the state machine), never from a request.
    const assignments = keys.map((key, i) => `${codec.name(key as keyof PaymentRow & string)} = $${i + 3}`);
    const text = `update payments set ${[...assignments, 'updated_at = now()'].join(', ')} where tenant_id = $1 and id = $2${guardSql(guard)} returning *`;
    statement = { text, keys };
    updates.set(shape, statement);
  }
  return statement;
}

/** One guarded UPDATE; undefined when the payment is not (or no longer) as the guard says. */
export async function updatePayment(tx: Tx, tenantId: string, id: string, set: PaymentPatch, guard: PaymentGuard = {}): Promise<PaymentRow | undefined> {
  const keys = Object.keys(set).filter((key) => (set as Record<string, unknown>)[key] !== undefined && key !== 'updatedAt').sort();
  const { text } = updateShape(keys, guard);
  const params = [tenantId, id, ...keys.map((key) => encode(codec.column(key as keyof PaymentRow & string), (set as Record<string, unknown>)[key]))];
  const [row] = await runStatement(tx, text, params);
  return row ? codec.decode(row) : undefined;
}

/**
 * One page of the tenant's payments (runtime/pagination.ts semantics: newest first by
 * seq, cursors are ids looked up in the same scope, one extra row for `has_more`), as
 * text: the statement is one of a few shapes, each prepared once per connection.
 */
export async function listPaymentRows(
  database: Database,
  tenantId: string,
  params: ListParams,
  status: PaymentStatus | undefined,
): Promise<{ rows: PaymentRow[]; hasMore: boolean }> {
  const cursorId = params.startingAfter ?? params.endingBefore;
  const reverse = params.endingBefore !== undefined;
  const values: unknown[] = [tenantId];
  const conditions = ['tenant_id = $1'];
  const bind = (condition: string, value: unknown) => {
    values.push(value);
    conditions.push(condition.replace('?', `$${values.length}`));
  };
  if (cursorId !== undefined) {
    // A read of its own: a payment's seq never changes, so the page needs no snapshot shared with it.
    const [cursor] = await database.tenantRead(tenantId, 'select seq from payments where tenant_id = $1 and id = $2', [tenantId, cursorId]);
    if (!cursor) throw resourceMissing('payment', cursorId, reverse ? 'ending_before' : 'starting_after');
    bind(reverse ? 'seq > ?' : 'seq < ?', cursor.seq);
  }
  if (status !== undefined) bind('status = ?', status);
  if (params.createdGte) bind('created_at >= ?', encode(schema.payments.createdAt, params.createdGte));
  if (params.createdLte) bind('created_at <= ?', encode(schema.payments.createdAt, params.createdLte));
  values.push(params.limit + 1);
  const text = `select * from payments where ${conditions.join(' and ')} order by seq ${reverse ? 'asc' : 'desc'} limit $${values.length}`;
  const rows = (await database.tenantRead(tenantId, text, values)).map((row) => codec.decode(row));
  const { data, hasMore } = toPage(rows, params.limit, reverse);
  return { rows: data, hasMore };
}
