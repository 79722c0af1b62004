import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { assertStructure } from './structure.ts';

/**
 * The payment method contract. A payment method is a folder under plugins/payment-methods
 * that calls {@link definePaymentMethod}; the composition root registers it, and the
 * registry derives the create-payment body, validation, redaction and routing from it.
 */

/** `payment_method.type` values: lowercase, as on the wire (`card`, `sepa_debit`). */
export const PaymentMethodType = Type.String({ pattern: '^[a-z][a-z0-9_]{1,39}$' });
export type PaymentMethodType = string;

/**
 * Request details by method type. Each payment method folder adds its own entry by
 * declaration merging (`declare module ... { interface PaymentMethodDetails { card: CardDetails } }`),
 * so a connector's input is typed by the methods it declares support for without the
 * connector importing any payment method plugin.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface PaymentMethodDetails {}

/** `payment_method` as handed to a connector: `{ type: 'card', card: {...} }`. */
export type PaymentMethodInput<T extends string = string> = T extends keyof PaymentMethodDetails
  ? { type: T } & { [K in T]: PaymentMethodDetails[K] }
  : { type: T } & Record<string, unknown>;

/** What `validate` may depend on besides the details: the payment's currency and the clock. */
export const ValidationContext = Type.Object({
  /** Uppercase ISO 4217 code of the payment (already checked against the supported list). */
  currency: Type.String(),
  /** "Now" for expiry checks; injected so tests and replicas agree on the month boundary. */
  now: Type.Date(),
});
export type ValidationContext = Static<typeof ValidationContext>;

/** What `redact` needs: the deployment's secret key for fingerprints (at least 16 bytes). */
export const RedactionContext = Type.Object({
  fingerprintKey: Type.Union([Type.String(), Type.Uint8Array()]),
});
export type RedactionContext = Static<typeof RedactionContext>;

/** What a payment method plugin declares; see {@link definePaymentMethod}. */
export type PaymentMethodSpec<T extends string, S extends TSchema, P extends TSchema> = {
  /** The `payment_method.type` value and the key of the details object (`payment_method.<type>`). */
  type: T;
  /** TypeBox schema of the request object under `payment_method.<type>` (structure only). */
  schema: S;
  /** TypeBox schema of the public (redacted) view stored with a payment and returned by the API. */
  publicSchema: P;
  /**
   * Semantic checks (Luhn, expiry, IBAN checksum, currency rules). Throws an `ApiError` 400
   * with the API.md code and the full `param` path (e.g. `payment_method.card.number`).
   * Never put the offending value into a message: it may be a card number.
   */
  validate(details: Static<S>, ctx: ValidationContext): void;
  /** The public view: no full number, no CVC, no full account number, plus a keyed fingerprint. */
  redact(details: Static<S>, ctx: RedactionContext): Static<P>;
};

/** A registered payment method: the spec plus derived facts, frozen. */
export type PaymentMethodDefinition<T extends string = string, S extends TSchema = TSchema, P extends TSchema = TSchema> = Readonly<
  PaymentMethodSpec<T, S, P>
> & {
  /** `payment_method.<type>`: the prefix of every `param` this method reports. */
  readonly paramPrefix: `payment_method.${T}`;
};

/** Any payment method definition, whatever its schemas (for registries and lists). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyPaymentMethodDefinition = PaymentMethodDefinition<string, any, any>;

/**
 * Declares a payment method plugin. The returned `validate` first checks the structure
 * against `schema` (so it is safe to call on a body that skipped HTTP validation: missing
 * field -> `parameter_missing`, unknown field -> `parameter_unknown`, wrong type or range ->
 * `parameter_invalid`, each with its full `param`), then runs the plugin's own semantic
 * checks.
 *
 * @example
 * const card = definePaymentMethod({ type: 'card', schema: CardDetails, publicSchema: CardPublic,
 *   validate(details, { currency, now }) { ... }, redact(details, { fingerprintKey }) { ... } });
 */
export function definePaymentMethod<const T extends string, S extends TSchema, P extends TSchema>(
  spec: PaymentMethodSpec<T, S, P>,
): PaymentMethodDefinition<T, S, P> {
  if (!new RegExp(PaymentMethodType.pattern!).test(spec.type)) {
    throw new Error(`Payment method type '${spec.type}' must match ${PaymentMethodType.pattern}.`);
  }
  const paramPrefix = `payment_method.${spec.type}` as const;
  return Object.freeze({
    ...spec,
    paramPrefix,
    validate(details: Static<S>, ctx: ValidationContext): void {
      assertStructure(spec.schema, details, paramPrefix);
      spec.validate(details, ctx);
    },
  });
}

/** `{ type, <type>: details }` for every registered method: the `payment_method` request union. */
export function paymentMethodRequestSchema(methods: readonly AnyPaymentMethodDefinition[]): TSchema {
  return Type.Union(
    methods.map((method) =>
      Type.Object({ type: Type.Literal(method.type), [method.type]: method.schema }, { additionalProperties: false }),
    ),
  );
}

/** The public view union, for the payment object in responses and events. */
export function paymentMethodPublicSchema(methods: readonly AnyPaymentMethodDefinition[]): TSchema {
  return Type.Union(
    methods.map((method) =>
      Type.Object({ type: Type.Literal(method.type), [method.type]: method.publicSchema }, { additionalProperties: false }),
    ),
  );
}
