import { Type, type Static, type TProperties } from '@sinclair/typebox';
import { PaymentMethodType, type PaymentMethodInput } from '../../runtime/registry/index.ts';

export { ProcessorId, Supports } from '../../runtime/registry/index.ts';

/**
 * The data that crosses the connector boundary, as TypeBox schemas. The call wrapper
 * checks every input before a connector sees it and every result before the payments
 * layer does, so a connector bug surfaces as "outcome unknown", never as a wrong status.
 */

export const ProcessorOperation = Type.Union([
  Type.Literal('authorize'),
  Type.Literal('capture'),
  Type.Literal('cancel'),
  Type.Literal('refund'),
  Type.Literal('sync'),
]);
export type ProcessorOperation = Static<typeof ProcessorOperation>;

/** Integer minor units, never a float. */
export const Amount = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
export const Currency = Type.String({ pattern: '^[A-Z]{3}$' });
/** The processor-side idempotency key: the same key must never execute twice at the processor. */
export const IdempotencyKey = Type.String({ minLength: 1, maxLength: 255 });
/** The processor's own id of a payment or refund (e.g. `sim_...`). */
export const Reference = Type.String({ minLength: 1, maxLength: 255 });
/** A normalised failure code: `card_declined`, `expired_card`, `R01`, `AC04`, ... */
export const FailureCode = Type.String({ minLength: 1, maxLength: 64 });
const Message = Type.String({ maxLength: 500 });

export const AuthorizeInput = Type.Object({
  idempotencyKey: IdempotencyKey,
  amount: Amount,
  currency: Currency,
  /** true: authorize and capture at once (automatic capture); false: hold only. */
  capture: Type.Boolean(),
  /**
   * The raw details (`{ type, <type>: details }`), already validated by the payment
   * method's plugin. Handed to the connector for this call only; never stored or logged.
   */
  paymentMethod: Type.Unsafe<PaymentMethodInput>(Type.Object({ type: PaymentMethodType })),
  description: Type.Optional(Type.String({ maxLength: 1000 })),
});
export type AuthorizeInput = Static<typeof AuthorizeInput>;

export const CaptureInput = Type.Object({
  idempotencyKey: IdempotencyKey,
  reference: Reference,
  /** Amount to capture, at most the authorized amount; the rest is released. */
  amount: Amount,
  currency: Currency,
});
export type CaptureInput = Static<typeof CaptureInput>;

export const CancelInput = Type.Object({
  idempotencyKey: IdempotencyKey,
  reference: Reference,
  reason: Type.Optional(Type.String({ maxLength: 64 })),
});
export type CancelInput = Static<typeof CancelInput>;

export const RefundInput = Type.Object({
  idempotencyKey: IdempotencyKey,
  /** The payment's reference. */
  reference: Reference,
  amount: Amount,
  currency: Currency,
  reason: Type.Optional(Type.String({ maxLength: 64 })),
});
export type RefundInput = Static<typeof RefundInput>;

/**
 * Ask the processor where a payment or refund stands. By `reference` when we have one;
 * by the `idempotencyKey` of the original operation when its answer was lost (timeout).
 * At least one of the two is required.
 */
export const SyncInput = Type.Object({
  kind: Type.Union([Type.Literal('payment'), Type.Literal('refund')]),
  reference: Type.Optional(Reference),
  idempotencyKey: Type.Optional(IdempotencyKey),
});
export type SyncInput = Static<typeof SyncInput>;

/** Decline codes a connector maps its own vocabulary onto (API.md 402 codes). */
export const DeclineCode = Type.Union([
  Type.Literal('card_declined'),
  Type.Literal('expired_card'),
  Type.Literal('incorrect_cvc'),
]);
export type DeclineCode = Static<typeof DeclineCode>;

export const AuthorizeResult = Type.Union([
  /** Held, waiting for capture (`capture: false`). */
  Type.Object({ status: Type.Literal('authorized'), reference: Reference }),
  /** Money taken (`capture: true`). */
  Type.Object({ status: Type.Literal('succeeded'), reference: Reference }),
  /** Accepted, outcome later (bank transfers): via `sync` or a callback. */
  Type.Object({ status: Type.Literal('pending'), reference: Reference }),
  Type.Object({
    status: Type.Literal('declined'),
    reference: Type.Optional(Reference),
    code: DeclineCode,
    /** Finer reason for `card_declined`: `generic_decline`, `insufficient_funds`, `lost_card`, ... */
    declineCode: Type.Optional(Type.String({ maxLength: 64 })),
    message: Message,
  }),
]);
export type AuthorizeResult = Static<typeof AuthorizeResult>;

export const CaptureResult = Type.Union([
  Type.Object({ status: Type.Literal('succeeded'), reference: Reference, amountCaptured: Amount }),
  Type.Object({ status: Type.Literal('failed'), reference: Reference, code: FailureCode, message: Message }),
]);
export type CaptureResult = Static<typeof CaptureResult>;

export const CancelResult = Type.Union([
  Type.Object({ status: Type.Literal('canceled'), reference: Reference }),
  Type.Object({ status: Type.Literal('failed'), reference: Reference, code: FailureCode, message: Message }),
]);
export type CancelResult = Static<typeof CancelResult>;

/** `reference` is the refund's own reference at the processor. */
export const RefundResult = Type.Union([
  Type.Object({ status: Type.Literal('succeeded'), reference: Reference }),
  Type.Object({ status: Type.Literal('pending'), reference: Reference }),
  Type.Object({ status: Type.Literal('failed'), reference: Reference, code: FailureCode, message: Message }),
]);
export type RefundResult = Static<typeof RefundResult>;

/** The normalised status variants shared by `sync` answers and webhook events. */
function statusVariants<P extends TProperties>(extra: P) {
  return [
    Type.Object({
      ...extra,
      kind: Type.Literal('payment'),
      reference: Reference,
      status: Type.Union([
        Type.Literal('pending'),
        Type.Literal('authorized'),
        Type.Literal('succeeded'),
        Type.Literal('canceled'),
      ]),
    }),
    Type.Object({
      ...extra,
      kind: Type.Literal('payment'),
      reference: Reference,
      status: Type.Literal('failed'),
      /** A decline code or a bank return code (`R01`, `AC04`). */
      code: FailureCode,
      declineCode: Type.Optional(Type.String({ maxLength: 64 })),
      message: Message,
    }),
    Type.Object({
      ...extra,
      kind: Type.Literal('refund'),
      reference: Reference,
      status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded')]),
    }),
    Type.Object({
      ...extra,
      kind: Type.Literal('refund'),
      reference: Reference,
      status: Type.Literal('failed'),
      code: FailureCode,
      message: Message,
    }),
  ] as const;
}

export const SyncResult = Type.Union([
  ...statusVariants({}),
  /** The processor has no such payment or refund (e.g. a timed-out request never arrived). */
  Type.Object({
    kind: Type.Union([Type.Literal('payment'), Type.Literal('refund')]),
    status: Type.Literal('not_found'),
  }),
]);
export type SyncResult = Static<typeof SyncResult>;

/** A verified status change from a processor callback. `eventId` is the processor's, for dedupe. */
export const WebhookEvent = Type.Union([...statusVariants({ eventId: Type.String({ minLength: 1, maxLength: 255 }) })]);
export type WebhookEvent = Static<typeof WebhookEvent>;

/** Input and result schema of each operation, for the call wrapper and the conformance kit. */
export const OperationSchemas = {
  authorize: { input: AuthorizeInput, result: AuthorizeResult },
  capture: { input: CaptureInput, result: CaptureResult },
  cancel: { input: CancelInput, result: CancelResult },
  refund: { input: RefundInput, result: RefundResult },
  sync: { input: SyncInput, result: SyncResult },
} as const;

export type OperationInput<O extends ProcessorOperation> = Static<(typeof OperationSchemas)[O]['input']>;
export type OperationResult<O extends ProcessorOperation> = Static<(typeof OperationSchemas)[O]['result']>;
