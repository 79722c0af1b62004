import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Logger } from '../../runtime/logger.ts';
import { silentLogger } from '../../runtime/logger.ts';
import type { PaymentMethodType } from '../../plugins/payment-methods/define.ts';
import { ProcessorConfigError } from './errors.ts';
import {
  ProcessorId,
  Supports,
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
};

export type WebhookContext<Credentials> = { credentials: Credentials; logger: Logger };

/**
 * A connector. Expected outcomes (approved, declined, pending, returned) are results;
 * throw {@link ProcessorError} when the processor refused the request, and let anything
 * else (network errors, {@link ProcessorTimeoutError}) escape: that means "unknown".
 */
export type ProcessorSpec<Id extends string, C extends TSchema> = {
  /** Lowercase id: URL segment, metric label, `processor` field of a payment. */
  id: Id;
  displayName?: string;
  /** Which payment method types and currencies routing may send here. */
  supports: Supports;
  /** TypeBox schema of the credentials; checked once at start (see `configureProcessor`). */
  credentials: C;
  /** Per-call timeout for this processor (default 10000 ms); the wrapper enforces it. */
  timeoutMs?: number;
  authorize(input: AuthorizeInput, ctx: ProcessorContext<Static<C>>): Promise<AuthorizeResult>;
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

export type ProcessorDefinition<Id extends string = string, C extends TSchema = TSchema> = Readonly<
  ProcessorSpec<Id, C> & { displayName: string; timeoutMs: number }
>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyProcessorDefinition = ProcessorDefinition<string, any>;

const DEFAULT_TIMEOUT_MS = 10_000;

function schemaProblems(schema: TSchema, value: unknown): string {
  // Paths and TypeBox messages only: credential values are secrets.
  return [...Value.Errors(schema, value)]
    .slice(0, 5)
    .map((error) => `${error.path || '/'} ${error.message}`)
    .join('; ');
}

/**
 * Declares a processor connector. Checks the declaration itself (id shape, supports,
 * timeout) and throws {@link ProcessorConfigError} at once, so a bad connector fails at
 * start, not on the first payment.
 */
export function defineProcessor<const Id extends string, C extends TSchema>(
  spec: ProcessorSpec<Id, C>,
): ProcessorDefinition<Id, C> {
  if (!Value.Check(ProcessorId, spec.id)) {
    throw new ProcessorConfigError(`Processor id '${spec.id}' must match ${ProcessorId.pattern}.`);
  }
  if (!Value.Check(Supports, spec.supports)) {
    throw new ProcessorConfigError(`Processor '${spec.id}': invalid supports: ${schemaProblems(Supports, spec.supports)}.`);
  }
  const timeoutMs = spec.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) {
    throw new ProcessorConfigError(`Processor '${spec.id}': timeoutMs must be a positive integer.`);
  }
  return Object.freeze({ ...spec, displayName: spec.displayName ?? spec.id, timeoutMs });
}

/** A processor with validated credentials, ready to be called through the call wrapper. */
export type RegisteredProcessor<D extends AnyProcessorDefinition = AnyProcessorDefinition> = {
  readonly id: D['id'];
  readonly displayName: string;
  readonly supports: Supports;
  readonly timeoutMs: number;
  readonly definition: D;
  readonly credentials: Static<D['credentials']>;
  /** True when the processor sends callbacks (has `parseWebhook`). */
  readonly acceptsWebhooks: boolean;
  /** Whether routing may send this method type in this currency here. */
  supportsPayment(method: PaymentMethodType, currency: string): boolean;
  /**
   * Verifies and normalises a callback. Throws `WebhookSignatureError` when it is not
   * genuine or not understood, and `ProcessorConfigError` when the processor takes no
   * callbacks (check `acceptsWebhooks` first: the route answers 404 for those).
   */
  parseWebhook(request: Request, logger?: Logger): Promise<WebhookEvent>;
};

/**
 * Binds credentials to a definition after checking them against its schema. Throws
 * {@link ProcessorConfigError} naming the processor and the failing paths (never values).
 */
export function configureProcessor<D extends AnyProcessorDefinition>(
  definition: D,
  credentials: unknown,
): RegisteredProcessor<D> {
  if (!Value.Check(definition.credentials, credentials)) {
    throw new ProcessorConfigError(
      `Invalid credentials for processor '${definition.id}': ${schemaProblems(definition.credentials, credentials)}.`,
    );
  }
  const bound = credentials as Static<D['credentials']>;
  return Object.freeze({
    id: definition.id,
    displayName: definition.displayName,
    supports: definition.supports,
    timeoutMs: definition.timeoutMs,
    definition,
    credentials: bound,
    acceptsWebhooks: typeof definition.parseWebhook === 'function',
    supportsPayment(method: PaymentMethodType, currency: string): boolean {
      return definition.supports.methods.includes(method) && definition.supports.currencies.includes(currency.toUpperCase());
    },
    async parseWebhook(request: Request, logger: Logger = silentLogger): Promise<WebhookEvent> {
      if (!definition.parseWebhook) {
        throw new ProcessorConfigError(`Processor '${definition.id}' takes no callbacks.`);
      }
      const event = await definition.parseWebhook(request, { credentials: bound, logger });
      if (!Value.Check(WebhookEvent, event)) {
        throw new ProcessorConfigError(`Processor '${definition.id}' returned a malformed webhook event.`);
      }
      return event;
    },
  });
}
