import { readById, schema, type Tx } from '../../../db';
import type { PaymentMethodInput as PaymentMethodRequest } from '../../../runtime/registry/index.ts';
import { PAYMENT_STATUSES, type CreatePaymentBody, type Metadata, type PaymentStatus } from '../model';
import { invalidRequest, parameterInvalid, resourceMissing, unexpectedState } from '../../../runtime/errors';
import { randomId } from '../../../runtime/ids';
import { parseListQuery } from '../../../runtime/pagination';
import type { RequestCommit } from '../../../runtime/unit-of-work';
import type { IdempotentRequest } from '../../idempotency';
import { inFlightAttempt, runAuthorization, type Attempt, type AuthorizationOutcome } from './authorization';
import type { PaymentsContext } from './context';
import { isSupportedCurrency, SUPPORTED_CURRENCIES } from './currencies';
import { firstCommit } from './first-commit';
import { listPaymentRows } from './payment-sql';
import type { PaymentRow } from './resource';
import { resumePayment } from './resume';
import { candidatesFor } from './routing';
import type { RoutingRule } from './routing-rules';
import { openMethod, sealMethod } from './vault';

/** API.md metadata limits that a JSON schema cannot express (key length). */
export function assertMetadata(metadata: Metadata | undefined, param = 'metadata'): void {
  if (!metadata) return;
  for (const key of Object.keys(metadata)) {
    if (key.length === 0 || key.length > 40) throw parameterInvalid(param, 'Metadata keys must be 1 to 40 characters.');
  }
}

export function wrongState(row: Pick<PaymentRow, 'id' | 'status'>, action: string): never {
  throw unexpectedState(
    'payment_unexpected_state',
    `You cannot ${action} this payment because it has a status of ${row.status}.`,
  );
}

export function createPaymentOperations(ctx: PaymentsContext) {
  const { database, store } = ctx;

  async function findOrThrow(tenantId: string, id: string): Promise<PaymentRow> {
    // One round trip on PostgreSQL (Database.tenantRead), outside any transaction of the caller.
    const row = await readById(database, schema.payments, tenantId, id);
    if (!row) throw resourceMissing('payment', id);
    return row;
  }

  /** The tenant's rules: this process's fresh copy, else read in the caller's transaction. */
  function rulesIn(tx: Tx, tenantId: string, forced: string | null | undefined): Promise<RoutingRule[]> | RoutingRule[] {
    if (forced) return []; // a forced processor is the only candidate: no rule applies
    return ctx.routing.cached(tenantId) ?? ctx.routing.read(tx, tenantId);
  }

  /**
   * POST /v1/payments. Everything that can be refused with a 400 is checked before the
   * first write (currency, method details, the forced processor). Then two commits, with
   * the processor call between them (DESIGN.md). The first claims the request's
   * Idempotency-Key with the new payment id bound to it (hence its processor-side key)
   * and inserts the payment with its `payment.created` event and outbox rows, already
   * `processing` and naming the processor about to be asked; the second commits the
   * outcome with its event, the call's record and the request's answer and audit row
   * (`finish`). A retry whose key is bound resumes that payment instead of creating
   * another. A payment created with `confirm: false` costs one commit.
   */
  async function create(
    tenantId: string,
    body: CreatePaymentBody,
    idempotency?: IdempotentRequest,
    finish?: RequestCommit<AuthorizationOutcome>,
  ): Promise<AuthorizationOutcome> {
    if (!isSupportedCurrency(body.currency)) {
      throw invalidRequest('currency_unsupported', `Unsupported currency. Use one of ${SUPPORTED_CURRENCIES.join(', ')} (uppercase).`, 'currency');
    }
    assertMetadata(body.metadata);
    const method: unknown = body.payment_method;
    ctx.registry.validatePaymentMethod(method, { currency: body.currency, now: ctx.now() });
    const routing = { method: method.type, currency: body.currency, forced: body.processor };
    // Checked now when the rules are at hand (a forced processor, or cached): a 400 before any transaction.
    const known = body.processor !== undefined ? [] : ctx.routing.cached(tenantId);
    if (known) candidatesFor(ctx.registry, { ...routing, rules: known });
    const key = await ctx.fingerprintKey();
    const id = randomId('pay');
    const confirm = body.confirm ?? true;
    const values = {
      id,
      tenantId,
      amount: body.amount,
      currency: body.currency,
      captureMethod: body.capture_method ?? 'automatic',
      methodType: method.type,
      paymentMethod: ctx.registry.redactPaymentMethod(method, { fingerprintKey: key }),
      description: body.description ?? null,
      metadata: body.metadata ?? {},
    };
    const opened = await firstCommit(
      ctx,
      tenantId,
      idempotency,
      id,
      async (tx) => {
        const candidates = candidatesFor(ctx.registry, { ...routing, rules: await rulesIn(tx, tenantId, body.processor) });
        if (!confirm) {
          // Kept encrypted until confirm or cancel; a forced processor is remembered for the confirm.
          const row = await store.insertPayment(tx, { ...values, status: 'requires_confirmation', processor: body.processor ?? null, methodVault: sealMethod(key, id, method) });
          return { row, candidates };
        }
        const first = candidates[0]!;
        const row = await store.insertPayment(tx, {
          ...values,
          status: 'processing',
          processor: first.id,
          processorAttempts: [inFlightAttempt(ctx, first.id)],
          nextSyncAt: ctx.after(ctx.config.reconcileAfterMs),
        });
        return { row, candidates };
      },
      // Nothing to ask a processor yet: the request's answer commits with the payment.
      confirm ? undefined : async (tx, { row }) => void (await finish?.write(tx, { kind: 'committed', row })),
    );
    if (opened.kind === 'resume') {
      const candidates = await database.tenant(tenantId, async (tx) => candidatesFor(ctx.registry, { ...routing, rules: await rulesIn(tx, tenantId, body.processor) }));
      return resumePayment(ctx, tenantId, opened.resourceId, method, candidates, finish);
    }
    const { row, candidates } = opened.result;
    if (!confirm) {
      finish?.committed();
      return { kind: 'committed', row };
    }
    return runAuthorization(ctx, row, method, candidates, finish);
  }

  /**
   * POST /v1/payments/:id/confirm: only from requires_confirmation; the claim makes a
   * racing confirm or cancel a 409. The claim wipes the method vault: the details live on
   * in memory for this call only, whatever its outcome. Two commits, as for a create.
   */
  async function confirm(
    tenantId: string,
    id: string,
    idempotency?: IdempotentRequest,
    finish?: RequestCommit<AuthorizationOutcome>,
  ): Promise<AuthorizationOutcome> {
    const key = await ctx.fingerprintKey();
    const opened = await firstCommit(ctx, tenantId, idempotency, id, async (tx) => {
      const row = await store.findPayment(tx, tenantId, id, { lock: true });
      if (!row) throw resourceMissing('payment', id);
      if (row.status !== 'requires_confirmation' || !row.methodVault) wrongState(row, 'confirm');
      const method: PaymentMethodRequest = openMethod(key, id, row.methodVault);
      const rules = await rulesIn(tx, tenantId, row.processor);
      const candidates = candidatesFor(ctx.registry, { method: method.type, currency: row.currency, forced: row.processor ?? undefined, rules });
      const first = candidates[0]!;
      const claimed = await store.transition(tx, tenantId, id, {
        to: 'processing',
        from: ['requires_confirmation'],
        set: {
          processor: first.id,
          processorAttempts: [...(row.processorAttempts as Attempt[]), inFlightAttempt(ctx, first.id)],
          methodVault: null,
          nextSyncAt: ctx.after(ctx.config.reconcileAfterMs),
        },
      });
      if (!claimed) wrongState(row, 'confirm');
      return { claimed, method, candidates };
    });
    // The key is bound to the payment: a retry after a lost answer learns the outcome (never re-sends: no details left).
    if (opened.kind === 'resume') return resumePayment(ctx, tenantId, opened.resourceId, undefined, [], finish);
    const { claimed, method, candidates } = opened.result;
    return runAuthorization(ctx, claimed, method, candidates, finish);
  }

  function retrieve(tenantId: string, id: string): Promise<PaymentRow> {
    return findOrThrow(tenantId, id);
  }

  async function list(tenantId: string, query: Record<string, unknown>) {
    const params = parseListQuery(query);
    const status = query.status;
    if (status !== undefined && (typeof status !== 'string' || !(PAYMENT_STATUSES as readonly string[]).includes(status))) {
      throw parameterInvalid('status', `status must be one of: ${PAYMENT_STATUSES.join(', ')}.`);
    }
    return listPaymentRows(database, tenantId, params, status as PaymentStatus | undefined);
  }

  return { create, confirm, retrieve, list, findOrThrow };
}

export type PaymentOperations = ReturnType<typeof createPaymentOperations>;
