import { eq, type SQL } from 'drizzle-orm';
import { schema } from '../../../db';
import type { PaymentMethodInput as PaymentMethodRequest } from '../../../runtime/registry/index.ts';
import { PAYMENT_STATUSES, type CreatePaymentBody, type Metadata, type PaymentStatus } from '../model';
import { invalidRequest, parameterInvalid, resourceMissing, unexpectedState } from '../../../runtime/errors';
import { randomId } from '../../../runtime/ids';
import { listPage, parseListQuery } from '../../../runtime/pagination';
import type { IdempotentRequest } from '../../idempotency';
import { inFlightAttempt, runAuthorization, type Attempt, type AuthorizationOutcome, type OnCommit } from './authorization';
import type { PaymentsContext } from './context';
import { isSupportedCurrency, SUPPORTED_CURRENCIES } from './currencies';
import { paymentResource, type PaymentRow } from './resource';
import { resumePayment } from './resume';
import { candidatesFor } from './routing';
import { tenantRoutingRules } from './routing-rules';
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

/** The answer to POST /v1/payments, stored as the idempotent response in the transaction of the outcome. */
function createdResponse(row: PaymentRow): { status: number; body: string } {
  return { status: 201, body: JSON.stringify(paymentResource(row)) };
}

export function createPaymentOperations(ctx: PaymentsContext) {
  const { database, store } = ctx;

  async function findOrThrow(tenantId: string, id: string): Promise<PaymentRow> {
    const row = await database.tenant(tenantId, (tx) => store.findPayment(tx, tenantId, id));
    if (!row) throw resourceMissing('payment', id);
    return row;
  }

  /**
   * POST /v1/payments. Everything that can be refused with a 400 is checked before the
   * first write (currency, method details, the forced processor). Then two transactions,
   * with the processor call between them: the first binds the request's Idempotency-Key
   * to the new payment id (hence to its processor-side key) and inserts the payment with
   * its `payment.created` event, already `processing` and naming the processor about to
   * be asked; the second commits the outcome, its event and the idempotent answer. A
   * retry whose key is bound resumes that payment instead of creating another.
   */
  async function create(tenantId: string, body: CreatePaymentBody, idempotency?: IdempotentRequest): Promise<AuthorizationOutcome> {
    if (!isSupportedCurrency(body.currency)) {
      throw invalidRequest('currency_unsupported', `Unsupported currency. Use one of ${SUPPORTED_CURRENCIES.join(', ')} (uppercase).`, 'currency');
    }
    assertMetadata(body.metadata);
    const method: unknown = body.payment_method;
    ctx.registry.validatePaymentMethod(method, { currency: body.currency, now: ctx.now() });
    const rules = await database.tenant(tenantId, (tx) => tenantRoutingRules(tx, tenantId));
    const candidates = candidatesFor(ctx.registry, { method: method.type, currency: body.currency, forced: body.processor, rules });
    const answer: OnCommit | undefined = idempotency && ((tx, row) => idempotency.complete(tx, createdResponse(row)));
    if (idempotency?.resumeId) return resumePayment(ctx, tenantId, idempotency.resumeId, method, candidates, answer);
    const key = await ctx.fingerprintKey();
    const id = randomId('pay');
    const confirm = body.confirm ?? true;
    const first = candidates[0]!;
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
    const inserted = await database.tenant(tenantId, async (tx) => {
      await idempotency?.bind(tx, id);
      if (!confirm) {
        // Kept encrypted until confirm or cancel; a forced processor is remembered for the confirm.
        const row = await store.insertPayment(tx, { ...values, status: 'requires_confirmation', processor: body.processor ?? null, methodVault: sealMethod(key, id, method) });
        await answer?.(tx, row);
        return row;
      }
      return store.insertPayment(tx, {
        ...values,
        status: 'processing',
        processor: first.id,
        processorAttempts: [inFlightAttempt(ctx, first.id)],
        nextSyncAt: ctx.after(ctx.config.reconcileAfterMs),
      });
    });
    if (!confirm) return { kind: 'committed', row: inserted };
    return runAuthorization(ctx, inserted, method, candidates, answer);
  }

  /**
   * POST /v1/payments/:id/confirm: only from requires_confirmation; the claim makes a
   * racing confirm or cancel a 409. The claim wipes the method vault: the details live on
   * in memory for this call only, whatever its outcome.
   */
  async function confirm(tenantId: string, id: string): Promise<AuthorizationOutcome> {
    const row = await findOrThrow(tenantId, id);
    if (row.status !== 'requires_confirmation' || !row.methodVault) wrongState(row, 'confirm');
    const key = await ctx.fingerprintKey();
    const method: PaymentMethodRequest = openMethod(key, id, row.methodVault);
    const rules = await database.tenant(tenantId, (tx) => tenantRoutingRules(tx, tenantId));
    const candidates = candidatesFor(ctx.registry, {
      method: method.type,
      currency: row.currency,
      forced: row.processor ?? undefined,
      rules,
    });
    const first = candidates[0]!;
    const claimed = await database.tenant(tenantId, (tx) =>
      store.transition(tx, tenantId, id, {
        to: 'processing',
        from: ['requires_confirmation'],
        set: {
          processor: first.id,
          processorAttempts: [...(row.processorAttempts as Attempt[]), inFlightAttempt(ctx, first.id)],
          methodVault: null,
          nextSyncAt: ctx.after(ctx.config.reconcileAfterMs),
        },
      }),
    );
    if (!claimed) wrongState(await findOrThrow(tenantId, id), 'confirm');
    return runAuthorization(ctx, claimed, method, candidates);
  }

  function retrieve(tenantId: string, id: string): Promise<PaymentRow> {
    return findOrThrow(tenantId, id);
  }

  async function list(tenantId: string, query: Record<string, unknown>) {
    const params = parseListQuery(query);
    const filters: SQL[] = [];
    const status = query.status;
    if (status !== undefined) {
      if (typeof status !== 'string' || !(PAYMENT_STATUSES as readonly string[]).includes(status)) {
        throw parameterInvalid('status', `status must be one of: ${PAYMENT_STATUSES.join(', ')}.`);
      }
      filters.push(eq(schema.payments.status, status as PaymentStatus));
    }
    return database.tenant(tenantId, (tx) =>
      listPage<PaymentRow>(tx, schema.payments, { params, scope: eq(schema.payments.tenantId, tenantId), filters, kind: 'payment' }),
    );
  }

  return { create, confirm, retrieve, list, findOrThrow };
}

export type PaymentOperations = ReturnType<typeof createPaymentOperations>;
