import type { AnyPaymentMethodDefinition, PaymentMethodType } from '../../plugins/payment-methods/define.ts';
import { configureProcessor, type AnyProcessorDefinition, type RegisteredProcessor } from '../../processors/sdk/define.ts';

export type RegistryOptions<M extends readonly AnyPaymentMethodDefinition[], P extends readonly AnyProcessorDefinition[]> = {
  paymentMethods: M;
  /** In priority order: `processorsFor` answers in this order, which routing uses for fallback. */
  processors: P;
  /** Credentials by processor id, each checked against that processor's schema here, at start. */
  credentials?: Readonly<Record<string, unknown>>;
};

type MethodOf<M extends readonly AnyPaymentMethodDefinition[], T> = Extract<M[number], { type: T }>;
type ProcessorOf<P extends readonly AnyProcessorDefinition[], I> = RegisteredProcessor<Extract<P[number], { id: I }>>;

/** Typed lookups over what was registered. Literal ids give exact types; any string may be absent. */
export type Registry<M extends readonly AnyPaymentMethodDefinition[], P extends readonly AnyProcessorDefinition[]> = {
  paymentMethod<T extends M[number]['type']>(type: T): MethodOf<M, T>;
  paymentMethod(type: string): M[number] | undefined;
  processor<I extends P[number]['id']>(id: I): ProcessorOf<P, I>;
  processor(id: string): RegisteredProcessor | undefined;
  /** Processors that take this method in this currency, in registration order. */
  processorsFor(method: PaymentMethodType, currency: string): RegisteredProcessor[];
  readonly paymentMethodTypes: ReadonlyArray<M[number]['type']>;
  readonly processorIds: ReadonlyArray<P[number]['id']>;
  readonly processors: readonly RegisteredProcessor[];
};

export type AnyRegistry = Registry<readonly AnyPaymentMethodDefinition[], readonly AnyProcessorDefinition[]>;

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
export function createRegistry<
  const M extends readonly AnyPaymentMethodDefinition[],
  const P extends readonly AnyProcessorDefinition[],
>(options: RegistryOptions<M, P>): Registry<M, P> {
  const methods = uniqueBy(options.paymentMethods, (method) => method.type, 'payment method');
  uniqueBy(options.processors, (processor) => processor.id, 'processor');
  const credentials = options.credentials ?? {};
  for (const id of Object.keys(credentials)) {
    if (!options.processors.some((processor) => processor.id === id)) {
      throw new Error(`Credentials given for processor '${id}', which is not registered.`);
    }
  }
  const processors = options.processors.map((definition) => configureProcessor(definition, credentials[definition.id] ?? {}));
  const processorsById = new Map(processors.map((processor) => [processor.id as string, processor]));

  return Object.freeze({
    paymentMethod: (type: string) => methods.get(type),
    processor: (id: string) => processorsById.get(id),
    processorsFor: (method: PaymentMethodType, currency: string) =>
      processors.filter((processor) => processor.supportsPayment(method, currency)),
    paymentMethodTypes: Object.freeze([...methods.keys()]),
    processorIds: Object.freeze([...processorsById.keys()]),
    processors: Object.freeze([...processors]),
  }) as unknown as Registry<M, P>;
}
