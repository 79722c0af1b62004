import { type Static, Type } from '@sinclair/typebox';
import { ProcessorOperation } from './model.ts';

/**
 * What an observer of processor calls is told (`onCall` of the caller), once per call:
 * enough to show a payment's processor attempts to support and to count error rates,
 * and nothing of the input. A card number, a CVC or an account number can never reach an
 * observer, because the record is built from the outcome and the two keys only.
 */
export const ProcessorCallRecord = Type.Object({
  processor: Type.String({ description: 'The processor id.' }),
  operation: ProcessorOperation,
  /** The caller's verdict: the processor answered, refused, or we cannot know. */
  kind: Type.Union([Type.Literal('result'), Type.Literal('error'), Type.Literal('unknown')]),
  /**
   * One bounded label, as the duration histogram's `outcome`: the answer's status
   * (`succeeded`, `declined`, `pending`, ...), or `timeout`, `circuit_open`,
   * `processor_error`, `exception`, `invalid_result`, `invalid_input`.
   */
  outcome: Type.String(),
  /** The decline, failure or processor error code when there is one (`insufficient_funds`, `R01`, `rate_limited`). */
  code: Type.Optional(Type.String()),
  /** Tries made, retries included (0 when the circuit was open or the input invalid). */
  attempts: Type.Integer({ minimum: 0 }),
  durationMs: Type.Integer({ minimum: 0 }),
  /** The processor-side idempotency key of the call (the payments layer derives it from its own ids). */
  idempotencyKey: Type.Optional(Type.String()),
  /** The processor's reference the call was about (a `sync` by reference), if any. */
  reference: Type.Optional(Type.String()),
});
export type ProcessorCallRecord = Static<typeof ProcessorCallRecord>;
