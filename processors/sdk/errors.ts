/**
 * Errors a connector throws. They are plain `Error`s, not `ApiError`s: what a processor
 * problem means for the API (failover, 502, payment left `processing`) is the payments
 * layer's decision, made on the call wrapper's outcome.
 */

/**
 * The processor answered with an error and nothing happened there (no money moved).
 * `retryable`: a transient condition (rate limit, 5xx, "try again"): the call wrapper
 * retries it with the same idempotency key, and routing may fail over to the next
 * processor. Not retryable: a request the processor will never accept.
 */
export class ProcessorError extends Error {
  readonly retryable: boolean;
  /** The processor's error code, normalised where possible; safe to log. */
  readonly code?: string;

  constructor(message: string, options: { retryable: boolean; code?: string; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'ProcessorError';
    this.retryable = options.retryable;
    this.code = options.code;
  }
}

/**
 * No answer in time: the processor may or may not have acted. The outcome is unknown and
 * must be resolved by `sync` or a callback, never assumed to be a decline.
 */
export class ProcessorTimeoutError extends Error {
  constructor(message = 'The processor did not answer in time.') {
    super(message);
    this.name = 'ProcessorTimeoutError';
  }
}

/** A callback that is unsigned, badly signed, stale or malformed: reject it, change nothing. */
export class WebhookSignatureError extends Error {
  readonly reason: 'missing_signature' | 'bad_signature' | 'stale' | 'malformed';

  constructor(reason: WebhookSignatureError['reason'], message: string) {
    super(message);
    this.name = 'WebhookSignatureError';
    this.reason = reason;
  }
}

/** A processor definition or its credentials are wrong: thrown at start, never per request. */
export { ProcessorConfigError } from '../../runtime/registry/index.ts';
