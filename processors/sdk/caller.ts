import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import type { Logger } from '../../runtime/logger.ts';
import type { Metrics } from '../../runtime/metrics.ts';
import { createCircuitBreaker, type BreakerOptions, type BreakerState, type CircuitBreaker } from './breaker.ts';
import type { ProcessorCallRecord } from './call-record.ts';
import type { RegisteredProcessor } from './define.ts';
import { ProcessorError, ProcessorTimeoutError } from './errors.ts';
import { OperationSchemas, type OperationInput, type OperationResult, type ProcessorOperation } from './model.ts';
import { scrubSensitive } from './scrub.ts';

/**
 * What a processor call came to. The payments layer switches on `kind` and never wraps a
 * connector in try/catch.
 * - `result`: the processor answered; `value` is the validated, normalised result.
 * - `unknown`: we cannot know what happened. `timeout`: no answer in time; `error`: the
 *   connector threw something unexpected or returned a malformed result. Resolve with
 *   `sync` (reconciliation); never treat as a decline. `circuit_open`: the breaker is
 *   open and the connector was NOT called, so nothing happened at the processor and
 *   routing may fail over or answer `processor_unavailable`.
 * - `error`: the processor refused the request and nothing happened there. `retryable`
 *   errors were already retried (same idempotency key); routing may fail over.
 */
export type CallOutcome<R> =
  | { kind: 'result'; value: R }
  | { kind: 'unknown'; reason: 'timeout' | 'error' | 'circuit_open' }
  | { kind: 'error'; retryable: boolean; message: string; code?: string };

export type ProcessorCallerOptions = {
  metrics: Pick<Metrics, 'processorRequestDuration' | 'processorErrorsTotal' | 'circuitOpen'>;
  logger: Logger;
  breaker?: BreakerOptions;
  retry?: {
    /** Tries per call, first included (default 3). Only for calls that may be retried. */
    maxAttempts?: number;
    /** Backoff before retry n is up to baseDelayMs * 2^(n-1), full jitter (default 100). */
    baseDelayMs?: number;
  };
  /** Per-processor timeout overrides (ms), e.g. from configuration; else the definition's. */
  timeoutMs?: Readonly<Record<string, number>>;
  /** Clock for the breaker; injectable for tests. */
  now?: () => number;
  /** Backoff sleep; injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Told once per call, after it ended, whatever its outcome (e.g. to keep a payment's
   * processor attempts for support). It gets the record, never the input; it must not
   * block (do slow work asynchronously), and whatever it throws is logged and ignored:
   * observing a payment must never change it.
   */
  onCall?: (record: ProcessorCallRecord) => void;
};

/** One attempt, classified. */
type Attempt<R> =
  | { type: 'result'; value: R }
  | { type: 'timeout' }
  | { type: 'processor_error'; error: ProcessorError }
  | { type: 'exception'; name: string; message: string }
  | { type: 'invalid_result' };

/**
 * The operation schemas compiled once: every call checks its input and its result, and
 * walking a schema per call (Value.Errors before any call) was a twentieth of a
 * payment's CPU time. Errors are only listed for an input that failed the check.
 */
const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

function checkerOf(schema: TSchema): TypeCheck<TSchema> {
  let check = compiled.get(schema);
  if (!check) compiled.set(schema, (check = TypeCompiler.Compile(schema)));
  return check;
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isTimeout(error: unknown): boolean {
  // DOMException 'TimeoutError' is what fetch throws for AbortSignal.timeout().
  return error instanceof ProcessorTimeoutError || (error instanceof Error && error.name === 'TimeoutError');
}

/** A retry repeats the operation, which is only safe when the processor can dedupe it. */
function mayRetry(operation: ProcessorOperation, input: { idempotencyKey?: string }): boolean {
  return operation === 'sync' || (typeof input.idempotencyKey === 'string' && input.idempotencyKey.length > 0);
}

/** Breaker failures are signs of an unhealthy processor, not of a bad request. */
function isFailure(attempt: Attempt<unknown>): boolean {
  switch (attempt.type) {
    case 'result':
      return false;
    case 'processor_error':
      return attempt.error.retryable;
    case 'timeout':
    case 'exception':
    case 'invalid_result':
      return true;
  }
}

function outcomeOf<R>(attempt: Attempt<R>): CallOutcome<R> {
  switch (attempt.type) {
    case 'result':
      return { kind: 'result', value: attempt.value };
    case 'timeout':
      return { kind: 'unknown', reason: 'timeout' };
    case 'exception':
    case 'invalid_result':
      return { kind: 'unknown', reason: 'error' };
    case 'processor_error': {
      const { retryable, code } = attempt.error;
      const message = scrubSensitive(attempt.error.message);
      return code === undefined ? { kind: 'error', retryable, message } : { kind: 'error', retryable, message, code };
    }
  }
}

/** Bounded label values for the duration histogram. */
function outcomeLabel(attempt: Attempt<{ status: string }>): string {
  return attempt.type === 'result' ? attempt.value.status : attempt.type;
}

function errorKind(attempt: Attempt<unknown>): string | undefined {
  switch (attempt.type) {
    case 'result':
      return undefined;
    case 'timeout':
      return 'timeout';
    case 'processor_error':
      return attempt.error.retryable ? 'retryable' : 'fatal';
    case 'exception':
    case 'invalid_result':
      return attempt.type;
  }
}

/** The decline, failure or processor error code of an attempt, for the call record. */
function codeOf(attempt: Attempt<unknown>): string | undefined {
  if (attempt.type === 'processor_error') return attempt.error.code;
  if (attempt.type !== 'result' || typeof attempt.value !== 'object' || attempt.value === null) return undefined;
  const value = attempt.value as { code?: unknown; declineCode?: unknown };
  const code = value.declineCode ?? value.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * The one place processor calls go through: input check, timeout, retries, circuit
 * breaker, metrics and one log line per call. Connectors contain none of this.
 */
export function createProcessorCaller(options: ProcessorCallerOptions) {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const maxAttempts = Math.max(1, options.retry?.maxAttempts ?? 3);
  const baseDelayMs = options.retry?.baseDelayMs ?? 100;
  const breakers = new Map<string, CircuitBreaker>();
  const { metrics } = options;

  function notify(record: ProcessorCallRecord): void {
    if (!options.onCall) return;
    try {
      options.onCall(record);
    } catch (error) {
      options.logger.error({ processor: record.processor, operation: record.operation, err: error }, 'processor call observer failed');
    }
  }

  function breakerFor(processorId: string): CircuitBreaker {
    let breaker = breakers.get(processorId);
    if (!breaker) {
      breaker = createCircuitBreaker({
        ...options.breaker,
        now,
        onChange: (state) => {
          metrics.circuitOpen.set({ processor: processorId }, state === 'open' ? 1 : 0);
          options.logger.warn({ processor: processorId, circuit: state }, 'processor circuit breaker changed state');
        },
      });
      metrics.circuitOpen.set({ processor: processorId }, 0);
      breakers.set(processorId, breaker);
    }
    return breaker;
  }

  async function attemptOnce<O extends ProcessorOperation>(
    processor: RegisteredProcessor,
    operation: O,
    input: OperationInput<O>,
    attempt: number,
  ): Promise<Attempt<OperationResult<O>>> {
    const timeoutMs = options.timeoutMs?.[processor.id] ?? processor.timeoutMs;
    const controller = new AbortController();
    const ctx = {
      credentials: processor.credentials,
      signal: controller.signal,
      logger: options.logger.child({ processor: processor.id, operation }),
      attempt,
      deliverCallback: processor.deliverCallback,
      state: processor.state,
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new ProcessorTimeoutError();
        controller.abort(error);
        reject(error);
      }, timeoutMs);
    });
    // The connector's method is looked up by name; the input type matches by construction.
    const run = (processor.definition as unknown as Record<string, unknown>)[operation] as (input: unknown, ctx: unknown) => Promise<unknown>;
    const pending = Promise.resolve().then(() => run.call(processor.definition, input, ctx));
    pending.catch(() => undefined); // a connector that ignores the abort may reject later
    try {
      const value = await Promise.race([pending, deadline]);
      if (!checkerOf(OperationSchemas[operation].result).Check(value)) return { type: 'invalid_result' };
      return { type: 'result', value: value as OperationResult<O> };
    } catch (error) {
      if (isTimeout(error)) return { type: 'timeout' };
      if (error instanceof ProcessorError) return { type: 'processor_error', error };
      const name = error instanceof Error ? error.name : typeof error;
      const message = error instanceof Error ? scrubSensitive(error.message) : '';
      return { type: 'exception', name, message };
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Calls `operation` on `processor`. Never throws for anything the connector does.
   * @example
   * const outcome = await caller.call(registry.processor('simulator'), 'authorize', input);
   * switch (outcome.kind) { case 'result': ...; case 'unknown': ...; case 'error': ... }
   */
  async function call<O extends ProcessorOperation>(
    processor: RegisteredProcessor,
    operation: O,
    input: OperationInput<O>,
  ): Promise<CallOutcome<OperationResult<O>>> {
    const startedAt = performance.now();
    const keyed = input as { idempotencyKey?: string; reference?: string };
    const logFields = {
      processor: processor.id,
      operation,
      idempotency_key: keyed.idempotencyKey,
      reference: keyed.reference,
    };
    // Only the two keys of the input, checked to be strings: the rest may be card data.
    const record = (kind: ProcessorCallRecord['kind'], outcome: string, attempts: number, code?: string): ProcessorCallRecord => ({
      processor: processor.id,
      operation,
      kind,
      outcome,
      ...(code === undefined ? {} : { code }),
      attempts,
      durationMs: Math.round(performance.now() - startedAt),
      ...(typeof keyed.idempotencyKey === 'string' ? { idempotencyKey: keyed.idempotencyKey } : {}),
      ...(typeof keyed.reference === 'string' ? { reference: keyed.reference } : {}),
    });

    const inputSchema = OperationSchemas[operation].input;
    const inputError = checkerOf(inputSchema).Check(input) ? undefined : Value.Errors(inputSchema, input).First();
    const syncWithoutKey = operation === 'sync' && !keyed.reference && !keyed.idempotencyKey;
    if (inputError || syncWithoutKey) {
      // A payments-layer bug: report where, never the value (it may be a card number).
      const where = inputError ? `${inputError.path} ${inputError.message}` : 'sync needs a reference or an idempotencyKey';
      options.logger.error({ ...logFields, problem: where }, 'processor call rejected: invalid input');
      notify(record('error', 'invalid_input', 0));
      return { kind: 'error', retryable: false, message: `Invalid ${operation} input: ${where}.` };
    }

    const breaker = breakerFor(processor.id);
    if (!breaker.tryAcquire()) {
      metrics.processorErrorsTotal.inc({ processor: processor.id, operation, kind: 'circuit_open' });
      options.logger.warn({ ...logFields, outcome: 'circuit_open' }, 'processor call skipped: circuit open');
      notify(record('unknown', 'circuit_open', 0));
      return { kind: 'unknown', reason: 'circuit_open' };
    }

    const attemptsAllowed = mayRetry(operation, keyed) ? maxAttempts : 1;
    let attempt: Attempt<OperationResult<O>> = { type: 'invalid_result' };
    let attempts = 0;
    while (attempts < attemptsAllowed) {
      attempts += 1;
      const attemptStart = performance.now();
      attempt = await attemptOnce(processor, operation, input, attempts);
      const seconds = (performance.now() - attemptStart) / 1000;
      metrics.processorRequestDuration.observe(
        { processor: processor.id, operation, outcome: outcomeLabel(attempt as Attempt<{ status: string }>) },
        seconds,
      );
      const kind = errorKind(attempt);
      if (kind) metrics.processorErrorsTotal.inc({ processor: processor.id, operation, kind });
      const retry = attempt.type === 'processor_error' && attempt.error.retryable && attempts < attemptsAllowed;
      if (!retry) break;
      await sleep(Math.random() * baseDelayMs * 2 ** (attempts - 1));
    }

    if (isFailure(attempt)) breaker.recordFailure();
    else breaker.recordSuccess();

    const outcome = outcomeOf(attempt);
    const line = {
      ...logFields,
      outcome: outcomeLabel(attempt as Attempt<{ status: string }>),
      attempts,
      duration_ms: Math.round(performance.now() - startedAt),
      ...(attempt.type === 'result' && 'reference' in attempt.value ? { result_reference: attempt.value.reference } : {}),
      ...(attempt.type === 'processor_error' ? { error_code: attempt.error.code, retryable: attempt.error.retryable } : {}),
      ...(attempt.type === 'exception' ? { error_name: attempt.name, error_message: attempt.message } : {}),
    };
    if (outcome.kind === 'result') options.logger.info(line, 'processor call');
    else options.logger.warn(line, 'processor call failed');
    notify(record(outcome.kind, line.outcome, attempts, codeOf(attempt)));
    return outcome;
  }

  return {
    call,
    /** The breaker state of a processor, for readiness checks and tests. */
    circuitState(processorId: string): BreakerState {
      return breakers.get(processorId)?.state() ?? 'closed';
    },
  };
}

export type ProcessorCaller = ReturnType<typeof createProcessorCaller>;
