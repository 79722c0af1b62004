import { and, eq } from 'drizzle-orm';
import { schema } from '../../../db';
import { parseWebhookEvent, ProcessorConfigError, WebhookSignatureError } from '../../../processors/sdk/index.ts';
import type { WebhookEvent } from '../../../processors/sdk/index.ts';
import { invalidRequest, resourceMissing } from '../../../runtime/errors';
import type { PaymentsContext } from './context';
import { applyPaymentUpdate, applyRefundUpdate } from './updates';

export type CallbackOutcome = 'applied' | 'unchanged' | 'duplicate' | 'unmatched';

/**
 * POST /v1/processors/:processor/webhooks. The connector verifies its own signature
 * (anything wrong: 400, nothing changes). The change and the (processor, event id)
 * dedupe row commit together, so a replayed callback is a harmless 200.
 */
export function createCallbackHandler(ctx: PaymentsContext) {
  const { database, store } = ctx;

  async function parse(processorId: string, request: Request): Promise<WebhookEvent> {
    const processor = ctx.registry.processor(processorId);
    if (!processor || !processor.acceptsWebhooks) throw resourceMissing('processor', processorId);
    try {
      return await parseWebhookEvent(processor, request, ctx.logger);
    } catch (error) {
      if (error instanceof WebhookSignatureError || error instanceof ProcessorConfigError) {
        ctx.logger.warn({ processor: processorId, reason: (error as WebhookSignatureError).reason ?? 'invalid' }, 'processor callback rejected');
        throw invalidRequest('signature_invalid', 'The callback signature is missing or invalid.');
      }
      throw error;
    }
  }

  async function handle(processorId: string, request: Request): Promise<CallbackOutcome> {
    const event = await parse(processorId, request);
    return database.system(async (tx) => {
      const table = event.kind === 'payment' ? schema.payments : schema.refunds;
      const [target] = await tx
        .select({ id: table.id, tenantId: table.tenantId })
        .from(table)
        .where(and(eq(table.processor, processorId), eq(table.processorReference, event.reference)))
        .limit(1);
      // Not ours yet (e.g. the answer to a timed-out call): reconciliation resolves it by key.
      if (!target) return 'unmatched' as const;
      const [fresh] = await tx
        .insert(schema.processorCallbacks)
        .values({ processor: processorId, eventId: event.eventId, tenantId: target.tenantId })
        .onConflictDoNothing()
        .returning();
      if (!fresh) return 'duplicate' as const;
      if (event.kind === 'payment') {
        const row = await store.findPayment(tx, target.tenantId, target.id, { lock: true });
        return row && (await applyPaymentUpdate(ctx, tx, row, event)) ? 'applied' : 'unchanged';
      }
      const refund = await store.findRefund(tx, target.tenantId, target.id, { lock: true });
      return refund && (await applyRefundUpdate(ctx, tx, refund, event)) ? 'applied' : 'unchanged';
    });
  }

  return { handle };
}
