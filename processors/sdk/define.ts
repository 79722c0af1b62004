import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Logger } from '../../runtime/logger.ts';
import {
  assertProcessorDeclaration,
  ProcessorConfigError,
  type PaymentMethodInput,
  type ProcessorContract,
  type ProcessorState,
  type RegisteredProcessor,
  type Supports,
} from '../../runtime/registry/index.ts';
import {
  WebhookEvent,
  type AuthorizeInput,
  type AuthorizeResult,
  type CancelInput,
  type CancelResult,
  type CaptureInput,
  type CaptureResult,
  type RefundInput,
  type RefundResult,
  type SyncInput,
  type SyncResult,
} from './model.ts';

export { configureProcessor, type RegisteredProcessor } from '../../runtime/registry/index.ts';

/** What every operation receives besides its input. */
export type ProcessorContext<Credentials> = {
  /** The validated credentials of this deployment (API keys, webhook secrets). */
  credentials: Credentials;
  /** Aborted when the call wrapper gives up (timeout): pass it to `fetch`. */
  signal: AbortSignal;
  /** Already bound to processor and operation. Never log the input: it holds card data. */
  logger: Logger;
  /** 1 for the first try; higher when the wrapper retries with the same idempotency key. */
  attempt: number;
  /**
   * Sends a signed callback to this deployment's own `POST /v1/processors/:id/webhooks`,
   * in-process. For simulators and test doubles; a real processor calls over the network.
   */
  deliverCallback?: (request: Request) => Promise<void>;
  /**
   * The connector's own durable state, namespaced to this processor: PostgreSQL in a
   * deployment (shared by replicas and workers, survives restarts), memory in unit tests.
   */
  state: ProcessorState;
};

export type WebhookContext<Credentials> = { credentials: Credentials; logger: Logger };

/** `authorize` input typed by the payment methods the connector declares (`supports.methods`). */
export type AuthorizeInputFor<M extends string> = Omit<AuthorizeInput, 'paymentMethod'> & {
  paymentMethod: M extends '*' ? PaymentMethodInput : PaymentMethodInput<M>;
};

/**
 * A connector. Expected outcomes (approved, declined, pending, returned) are results;
 * throw {@link ProcessorError} when the processor refused the request, and let anything
 * else (network errors, {@link ProcessorTimeoutError}) escape: that means "unknown".
 */
export type ProcessorSpec<Id extends string, C extends TSchema, M extends string = string> = {
  /** Lowercase id: URL segment, metric label, `processor` field of a payment. */
  id: Id;
  displayName?: string;
  /**
   * Which payment method types (or `*`) and currencies routing may send here;
   * `currenciesByMethod` gives one method other currencies than `currencies`.
   */
  supports: { methods: readonly M[]; currencies: readonly string[]; currenciesByMethod?: { readonly [K in M]?: readonly string[] } };
  /** TypeBox schema of the credentials and settings; checked once at start. */
  credentials: C;
  /** Credential field -> environment variable it is read from (`{ secretKey: 'STRIPE_SECRET_KEY' }`). */
  env?: { readonly [K in keyof Static<C>]?: string };
  /** A test double: production refuses to run with only test doubles registered. */
  testOnly?: boolean;
  /** Per-call timeout for this processor (default 10000 ms); the wrapper enforces it. */
  timeoutMs?: number;
  authorize(input: AuthorizeInputFor<M>, ctx: ProcessorContext<Static<C>>): Promise<AuthorizeResult>;
  capture(input: CaptureInput, ctx: ProcessorContext<Static<C>>): Promise<CaptureResult>;
  cancel(input: CancelInput, ctx: ProcessorContext<Static<C>>): Promise<CancelResult>;
  refund(input: RefundInput, ctx: ProcessorContext<Static<C>>): Promise<RefundResult>;
  sync(input: SyncInput, ctx: ProcessorContext<Static<C>>): Promise<SyncResult>;
  /**
   * Verify the processor's signature on a callback and normalise it. Reads the raw body,
   * so pass a `Request` whose body is unread. Throws `WebhookSignatureError` for anything
   * unsigned, badly signed or malformed.
   */
  parseWebhook?(request: Request, ctx: WebhookContext<Static<C>>): Promise<WebhookEvent>;
};

export type ProcessorDefinition<Id extends string = string, C extends TSchema = TSchema, M extends string = string> = Readonly<
  Omit<ProcessorSpec<Id, C, M>, 'supports' | 'env'> & {
    displayName: string;
    timeoutMs: number;
    supports: Supports;
    env?: Readonly<Record<string, string>>;
  }
> &
  ProcessorContract<Id, C>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyProcessorDefinition = ProcessorDefinition<string, any, any>;

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Declares a processor connector. Checks the declaration itself (id shape, supports,
 * timeout) and throws {@link ProcessorConfigError} at once, so a bad connector fails at
 * start, not on the first payment.
 */
export function defineProcessor<const Id extends string, C extends TSchema, const M extends string>(
  spec: ProcessorSpec<Id, C, M>,
): ProcessorDefinition<Id, C, M> {
  const timeoutMs = spec.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  assertProcessorDeclaration({ id: spec.id, supports: spec.supports, timeoutMs });
  return Object.freeze({ ...spec, displayName: spec.displayName ?? spec.id, timeoutMs }) as unknown as ProcessorDefinition<Id, C, M>;
}

/**
 * A processor callback, verified by the connector and checked against the SDK's shape:
 * a connector bug surfaces as a refused callback, never as a wrong status.
 */
export async function parseWebhookEvent(processor: RegisteredProcessor, request: Request, logger?: Logger): Promise<WebhookEvent> {
  const event = await processor.parseWebhook(request, logger);
  if (!Value.Check(WebhookEvent, event)) {
    throw new ProcessorConfigError(`Processor '${processor.id}' returned a malformed webhook event.`);
  }
  return event;
}
