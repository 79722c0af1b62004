import type { AnyRegistry, PaymentMethodType } from '../../../runtime/registry/index.ts';
import type { RegisteredProcessor } from '../../../processors/sdk/index.ts';
import { invalidRequest, parameterInvalid } from '../../../runtime/errors';

/** What the payments layer needs from the registry: processors, and the methods' checks. */
export type ProcessorDirectory = Pick<AnyRegistry, 'processor' | 'processorsFor' | 'validatePaymentMethod' | 'redactPaymentMethod'>;

/**
 * The processors to try, in order. A forced `processor` is the only candidate (no
 * failover: the caller asked for that one). Otherwise the tenant's preference comes
 * first, then every other capable processor in registry order, so a tenant with no
 * configuration gets the platform default and a preference never strands a payment.
 */
export function candidatesFor(
  directory: ProcessorDirectory,
  request: { method: PaymentMethodType; currency: string; forced?: string; preference?: readonly string[] | null },
): RegisteredProcessor[] {
  if (request.forced !== undefined) {
    const processor = directory.processor(request.forced);
    if (!processor) throw parameterInvalid('processor', `No such processor: '${request.forced}'.`);
    if (!processor.supportsPayment(request.method, request.currency)) {
      throw parameterInvalid('processor', `Processor '${request.forced}' does not take ${request.method} payments in ${request.currency}.`);
    }
    return [processor];
  }
  const capable = directory.processorsFor(request.method, request.currency);
  if (capable.length === 0) {
    throw invalidRequest('currency_unsupported', `No processor takes ${request.method} payments in ${request.currency}.`, 'currency');
  }
  const preference = request.preference ?? [];
  const rank = (processor: RegisteredProcessor) => {
    const index = preference.indexOf(processor.id);
    return index === -1 ? preference.length : index;
  };
  // Array.prototype.sort is stable: unranked processors keep the registry order.
  return [...capable].sort((a, b) => rank(a) - rank(b));
}
