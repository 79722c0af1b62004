import type { TSchema } from '@sinclair/typebox';
import { parameterInvalid } from '../errors.ts';
import {
  paymentMethodPublicSchema,
  paymentMethodRequestSchema,
  type AnyPaymentMethodDefinition,
  type PaymentMethodInput,
  type RedactionContext,
  type ValidationContext,
} from './payment-method.ts';
import {
  configureProcessor,
  credentialsFromEnv,
  type CallbackSink,
  type ProcessorContract,
  type RegisteredProcessor,
} from './processor.ts';
import type { ProcessorStateFactory } from './processor-state.ts';
import { assertStructure } from './structure.ts';

export type RegistryOptions<M extends readonly AnyPaymentMethodDefinition[], P extends readonly ProcessorContract[]> = {
  paymentMethods: M;
  /** In priority order: `processorsFor` answers in this order, which routing uses for fallback. */
  processors: P;
  /** Where each connector's declared credential variables are read (default: none set). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Credentials by processor id, instead of the environment (tests); checked the same way. */
  credentials?: Readonly<Record<string, unknown>>;
  /** The in-process callback channel handed to connectors that push callbacks. */
  deliverCallback?: CallbackSink;
  /** Where connectors keep their own state (default: memory, per processor). */
  stateFor?: ProcessorStateFactory;
};

type MethodOf<M extends readonly AnyPaymentMethodDefinition[], T> = Extract<M[number], { type: T }>;
type ProcessorOf<P extends readonly ProcessorContract[], I> = RegisteredProcessor<Extract<P[number], { id: I }>>;

/** Typed lookups over what was registered, and everything derived from the payment methods. */
export type Registry<M extends readonly AnyPaymentMethodDefinition[], P extends readonly ProcessorContract[]> = {
  paymentMethod<T extends M[number]['type']>(type: T): MethodOf<M, T>;
  paymentMethod(type: string): M[number] | undefined;
  processor<I extends P[number]['id']>(id: I): ProcessorOf<P, I>;
  processor(id: string): RegisteredProcessor | undefined;
  /** Processors that take this method in this currency, in registration order. */
  processorsFor(method: string, currency: string): RegisteredProcessor[];
  readonly paymentMethodTypes: ReadonlyArray<M[number]['type']>;
  readonly processorIds: ReadonlyArray<P[number]['id']>;
  readonly processors: readonly RegisteredProcessor[];
  /** `payment_method` of a create-payment body: one variant per registered method. */
  readonly paymentMethodRequest: TSchema;
  /** `payment_method` of a payment object: the public view of every registered method. */
  readonly paymentMethodPublic: TSchema;
  /**
   * Structure and semantics of a whole `payment_method` object. Throws the API.md 400
   * (`param` always the full path, e.g. `payment_method.type`).
   */
  validatePaymentMethod(value: unknown, ctx: ValidationContext): asserts value is PaymentMethodInput;
  /** The public view of a validated `payment_method`, as stored with the payment. */
  redactPaymentMethod(method: PaymentMethodInput, ctx: RedactionContext): { type: string } & Record<string, unknown>;
};

export type AnyRegistry = Registry<readonly AnyPaymentMethodDefinition[], readonly ProcessorContract[]>;

function uniqueBy<T>(items: readonly T[], id: (item: T) => string, what: string): Map<string, T> {
  const byId = new Map<string, T>();
  for (const item of items) {
    if (byId.has(id(item))) throw new Error(`Duplicate ${what} '${id(item)}': each may be registered once.`);
    byId.set(id(item), item);
  }
  return byId;
}

/**
 * Builds the registry at start. Throws on duplicate ids, on credentials for a processor
 * that is not registered (a typo would otherwise be silently ignored) and on credentials
 * that do not match a processor's schema.
 */
export function createRegistry<const M extends readonly AnyPaymentMethodDefinition[], const P extends readonly ProcessorContract[]>(
  options: RegistryOptions<M, P>,
): Registry<M, P> {
  const methods = uniqueBy(options.paymentMethods, (method) => method.type, 'payment method');
  uniqueBy(options.processors, (processor) => processor.id, 'processor');
  const credentials = options.credentials ?? {};
  for (const id of Object.keys(credentials)) {
    if (!options.processors.some((processor) => processor.id === id)) {
      throw new Error(`Credentials given for processor '${id}', which is not registered.`);
    }
  }
  const processors = options.processors.map((definition) =>
    configureProcessor(definition, definition.id in credentials ? credentials[definition.id] : credentialsFromEnv(definition, options.env ?? {}), {
      deliverCallback: options.deliverCallback,
      state: options.stateFor?.(definition.id),
    }),
  );
  const processorsById = new Map(processors.map((processor) => [processor.id as string, processor]));
  const paymentMethodRequest = paymentMethodRequestSchema(options.paymentMethods);

  function methodOf(type: string): AnyPaymentMethodDefinition {
    const method = methods.get(type);
    if (!method) throw parameterInvalid('payment_method.type', 'Invalid value for payment_method.type.');
    return method;
  }

  return Object.freeze({
    paymentMethod: (type: string) => methods.get(type),
    processor: (id: string) => processorsById.get(id),
    processorsFor: (method: string, currency: string) => processors.filter((processor) => processor.supportsPayment(method, currency)),
    paymentMethodTypes: Object.freeze([...methods.keys()]),
    processorIds: Object.freeze([...processorsById.keys()]),
    processors: Object.freeze([...processors]),
    paymentMethodRequest,
    paymentMethodPublic: paymentMethodPublicSchema(options.paymentMethods),
    validatePaymentMethod(value: unknown, ctx: ValidationContext) {
      assertStructure(paymentMethodRequest, value, 'payment_method');
      const { type } = value as { type: string };
      methodOf(type).validate((value as Record<string, unknown>)[type], ctx);
    },
    redactPaymentMethod(method: PaymentMethodInput, ctx: RedactionContext) {
      return { type: method.type, [method.type]: methodOf(method.type).redact(method[method.type as keyof typeof method], ctx) };
    },
  }) as unknown as Registry<M, P>;
}
