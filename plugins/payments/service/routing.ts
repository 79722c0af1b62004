import type { AnyRegistry, PaymentMethodType } from '../../../runtime/registry/index.ts';
import type { RegisteredProcessor } from '../../../processors/sdk/index.ts';
import { invalidRequest, parameterInvalid } from '../../../runtime/errors';
import { ruleMatches, type RoutingRule } from './routing-rules';

/** What the payments layer needs from the registry: methods and processors, and the methods' checks. */
export type ProcessorDirectory = Pick<AnyRegistry, 'processor' | 'processorsFor' | 'paymentMethod' | 'validatePaymentMethod' | 'redactPaymentMethod'>;

/**
 * The processors to try, in order. A forced `processor` is the only candidate (no
 * failover: the caller asked for that one). Otherwise the tenant's first rule matching
 * the method (and currency, when the rule names one) gives the processors and their
 * order, and only those are tried: a tenant who routes card payments to one processor
 * means that one. Processors of the rule that cannot take this payment (no longer
 * registered, or not in this currency when the rule names none) are skipped; if none is
 * left, or no rule matches, the deployment's order applies, so a rule never strands a
 * payment that the deployment could take.
 */
export function candidatesFor(
  directory: ProcessorDirectory,
  request: { method: PaymentMethodType; currency: string; forced?: string; rules?: readonly RoutingRule[] | null },
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
  const rule = (request.rules ?? []).find((candidate) => ruleMatches(candidate, request.method, request.currency));
  if (!rule) return capable;
  const named = rule.processors
    .map((id) => directory.processor(id))
    .filter((processor): processor is RegisteredProcessor => processor !== undefined && processor.supportsPayment(request.method, request.currency));
  return named.length > 0 ? named : capable;
}
