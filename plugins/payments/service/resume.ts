import type { Tx } from '../../../db';
import type { PaymentMethodInput as PaymentMethodRequest } from '../../../runtime/registry/index.ts';
import type { RegisteredProcessor } from '../../../processors/sdk/index.ts';
import { IN_FLIGHT, runAuthorization, type Attempt, type AuthorizationOutcome, type Finish } from './authorization';
import { processorKeys, type PaymentsContext } from './context';
import type { PaymentRow } from './resource';
import { applyPaymentUpdate } from './updates';

/**
 * A retry of POST /v1/payments whose Idempotency-Key is bound to a payment: the first
 * request created it and reached (or was about to reach) a processor, then could not
 * answer (a 5xx after the call, a crashed replica). The retry answers that payment and
 * never creates a second one, which would carry a new processor-side key and be charged
 * again. An open outcome is asked for (sync, by the same processor-side key); only when
 * the processor never received the authorization is it sent again, under that same key.
 * A confirm's retry has no method details (the confirm's claim wiped them, on purpose):
 * `method` is undefined, nothing is sent again, and the payment is answered as it stands
 * (`processing` until reconciliation learns the outcome).
 */
export async function resumePayment(
  ctx: PaymentsContext,
  tenantId: string,
  id: string,
  method: PaymentMethodRequest | undefined,
  candidates: RegisteredProcessor[],
  finish?: Finish,
): Promise<AuthorizationOutcome> {
  const { database, store } = ctx;
  const settle = async (change?: (tx: Tx, locked: PaymentRow) => Promise<unknown>) => {
    const row = await database.tenant(tenantId, async (tx) => {
      const locked = await store.findPayment(tx, tenantId, id, { lock: true });
      // Bound in the payment's own transaction: the payment exists whenever the binding does.
      if (!locked) throw new Error(`idempotency key bound to payment ${id}, which does not exist`);
      if (change) await change(tx, locked);
      const row = (await store.findPayment(tx, tenantId, id))!;
      await finish?.write(tx, { kind: 'committed', row });
      return row;
    });
    finish?.committed();
    return row;
  };

  const current = await database.tenant(tenantId, (tx) => store.findPayment(tx, tenantId, id));
  const processor = current?.processor ? ctx.registry.processor(current.processor) : undefined;
  if (!current || current.status !== 'processing' || !processor) return { kind: 'committed', row: await settle() };

  const outcome = await ctx.caller.call(processor, 'sync', {
    kind: 'payment',
    ...(current.processorReference ? { reference: current.processorReference } : { idempotencyKey: processorKeys.authorize(id) }),
  });
  if (outcome.kind !== 'result') {
    // Still unknown: the payment stays `processing` (announced now) and reconciliation goes on asking.
    return { kind: 'committed', row: await settle((tx) => store.announceProcessing(tx, tenantId, id)) };
  }
  const answer = outcome.value;
  if (answer.status === 'not_found' || answer.kind !== 'payment') {
    const attempts = current.processorAttempts as Attempt[];
    if (method && attempts.at(-1)?.outcome === IN_FLIGHT && !current.processorReference) {
      // It never arrived. Send it now under the same key: should the first still arrive, the processor dedupes it.
      const from = candidates.findIndex((candidate) => candidate.id === processor.id);
      return runAuthorization(ctx, current, method, from >= 0 ? candidates.slice(from) : [processor], finish);
    }
    return { kind: 'committed', row: await settle() };
  }
  return {
    kind: 'committed',
    row: await settle(async (tx, locked) => {
      await store.patchPayment(tx, tenantId, id, { processorAttempts: settledAttempts(locked, answer.status) });
      await applyPaymentUpdate(ctx, tx, locked, answer);
    }),
  };
}

/** The in-flight attempt gets the status the processor reports for it. */
function settledAttempts(row: PaymentRow, status: string): Attempt[] {
  const attempts = [...(row.processorAttempts as Attempt[])];
  const last = attempts.at(-1);
  if (last?.outcome === IN_FLIGHT) attempts[attempts.length - 1] = { ...last, outcome: status };
  return attempts;
}
