import { Type, type Static } from '@sinclair/typebox';
import { AuthorizeInput } from '../sdk/model.ts';

/** A `payment_method` as the connector receives it. */
const PaymentMethodRequest = AuthorizeInput.properties.paymentMethod;
import type { AnyProcessorDefinition } from '../sdk/define.ts';
import { Amount, Currency, DeclineCode } from '../sdk/model.ts';

/**
 * The test data a connector hands the conformance kit: which payment methods produce
 * which outcome at that processor (its sandbox test numbers, or its own rules).
 */
export const ConformanceFixtures = Type.Object({
  /** Currency for card payments; `amount` must be even and >= 4 so it splits into partial steps. */
  currency: Currency,
  amount: Type.Integer({ minimum: 4, multipleOf: 2 }),
  methods: Type.Object({
    /** Approved at once. */
    approved: PaymentMethodRequest,
    /** Each is declined with this normalised code (and decline code, when given). */
    declined: Type.Array(
      Type.Object({ method: PaymentMethodRequest, code: DeclineCode, declineCode: Type.Optional(Type.String()) }),
      { minItems: 1 },
    ),
    /** Approved, but refunds of it fail. */
    refundFails: PaymentMethodRequest,
    /** Answered `pending`; after `settle()` a sync reports `settlesTo` (with `code` when failed). */
    pending: Type.Object({
      method: PaymentMethodRequest,
      currency: Currency,
      amount: Type.Optional(Amount),
      settlesTo: Type.Union([Type.Literal('succeeded'), Type.Literal('failed')]),
      code: Type.Optional(Type.String()),
    }),
    /** The processor does not answer in time (or says so). */
    timeout: PaymentMethodRequest,
  }),
});
export type ConformanceFixtures = Static<typeof ConformanceFixtures>;

/** One fresh connector per check, so checks cannot lean on each other's state. */
export type ConformanceInstance = {
  processor: AnyProcessorDefinition;
  credentials: unknown;
  /** Moves the connector past settlement of anything pending (advance a fake clock, flip a sandbox flag). */
  settle(): void | Promise<void>;
  /** A genuine signed callback as the processor would send it. Required when it has `parseWebhook`. */
  webhook?: () => Request | Promise<Request>;
};

export type ConformanceOptions = {
  /** Shown as the describe block, e.g. 'simulator'. */
  name: string;
  factory: () => ConformanceInstance | Promise<ConformanceInstance>;
  fixtures: ConformanceFixtures;
  /** Call timeout of the timeout check only (default 250 ms); other checks use the processor's own. */
  timeoutMs?: number;
};

export type ConformanceReport = { check: string; passed: boolean; error?: string };
