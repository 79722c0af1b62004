import { randomUUID } from 'node:crypto';
import type { PaymentMethodInput as PaymentMethodRequest } from '../../runtime/registry/index.ts';
import { silentLogger } from '../../runtime/logger.ts';
import { createMetrics } from '../../runtime/metrics.ts';
import { createProcessorCaller, type CallOutcome, type ProcessorCaller } from '../sdk/caller.ts';
import type { AuthorizeResult } from '../sdk/model.ts';
import { configureProcessor, type RegisteredProcessor } from '../sdk/define.ts';
import type { ConformanceFixtures, ConformanceInstance, ConformanceOptions } from './model.ts';

/** One check's world: a fresh connector, the real call wrapper, fresh idempotency keys. */
export type Session = {
  instance: ConformanceInstance;
  processor: RegisteredProcessor;
  caller: ProcessorCaller;
  /** Same wrapper with the kit's short timeout, for the timeout check only (sandboxes can be slow). */
  impatientCaller: ProcessorCaller;
  fixtures: ConformanceFixtures;
  key(label: string): string;
  authorize(method: PaymentMethodRequest, capture: boolean, key?: string, via?: ProcessorCaller): Promise<CallOutcome<AuthorizeResult>>;
};

export async function openSession(options: ConformanceOptions): Promise<Session> {
  const instance = await options.factory();
  const processor = configureProcessor(instance.processor, instance.credentials);
  // The real wrapper, so results are schema-checked exactly as in production; the breaker
  // is made lenient so one check's deliberate failures cannot skip another's calls.
  const wrapperOptions = {
    metrics: createMetrics(),
    logger: silentLogger,
    breaker: { failureThreshold: 1_000 },
    retry: { maxAttempts: 2, baseDelayMs: 1 },
  };
  const caller = createProcessorCaller(wrapperOptions);
  const impatientCaller = createProcessorCaller({ ...wrapperOptions, timeoutMs: { [processor.id]: options.timeoutMs ?? 250 } });
  const run = randomUUID().slice(0, 8);
  let counter = 0;
  const key = (label: string) => `conformance-${run}-${label}-${(counter += 1)}`;
  const { fixtures } = options;
  return {
    instance,
    processor,
    caller,
    impatientCaller,
    fixtures,
    key,
    authorize(method, capture, idempotencyKey = key('authorize'), via = caller) {
      const pending = fixtures.methods.pending;
      const isPending = method === pending.method;
      return via.call(processor, 'authorize', {
        idempotencyKey,
        amount: isPending ? (pending.amount ?? fixtures.amount) : fixtures.amount,
        currency: isPending ? pending.currency : fixtures.currency,
        capture,
        paymentMethod: method,
      });
    },
  };
}
