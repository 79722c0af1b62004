/**
 * The processor SDK: what a connector is written against. See processors/README.md.
 * It depends on the kernel only (runtime/registry for the contract, logger, metrics).
 */
export * from './model.ts';
export * from './errors.ts';
export {
  defineProcessor,
  configureProcessor,
  parseWebhookEvent,
  type AnyProcessorDefinition,
  type AuthorizeInputFor,
  type ProcessorContext,
  type ProcessorDefinition,
  type ProcessorSpec,
  type RegisteredProcessor,
  type WebhookContext,
} from './define.ts';
export { createProcessorCaller, type CallOutcome, type ProcessorCaller, type ProcessorCallerOptions } from './caller.ts';
export { ProcessorCallRecord } from './call-record.ts';
export { createCircuitBreaker, BreakerOptions, type BreakerState, type CircuitBreaker } from './breaker.ts';
export { scrubSensitive } from './scrub.ts';
export type { PaymentMethodInput, ProcessorState, ProcessorStateTx } from '../../runtime/registry/index.ts';
export { createMemoryProcessorState } from '../../runtime/registry/index.ts';
