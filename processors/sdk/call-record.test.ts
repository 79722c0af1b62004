import { describe, expect, test } from 'bun:test';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { silentLogger } from '../../runtime/logger.ts';
import { createMetrics } from '../../runtime/metrics.ts';
import { ProcessorCallRecord } from './call-record.ts';
import { createProcessorCaller, type ProcessorCallerOptions } from './caller.ts';
import { configureProcessor, defineProcessor } from './define.ts';
import { ProcessorError } from './errors.ts';
import { cardInput, createScriptedProcessor } from './test-toy.ts';

/** The `onCall` observer of the caller: one record per call, whatever happened, and never the input. */

function setup(overrides: Partial<ProcessorCallerOptions> = {}) {
  const toy = createScriptedProcessor();
  const processor = configureProcessor(toy.definition, { apiKey: 'k' });
  const records: ProcessorCallRecord[] = [];
  const caller = createProcessorCaller({
    metrics: createMetrics(),
    logger: silentLogger,
    sleep: async () => {},
    breaker: { failureThreshold: 2, openMs: 60_000 },
    onCall: (record) => records.push(record),
    ...overrides,
  });
  return { ...toy, processor, caller, records };
}

/** A connector that declines every card, with a finer decline code. */
const decliner = configureProcessor(
  defineProcessor({
    id: 'decliner',
    supports: { methods: ['card'], currencies: ['EUR'] },
    credentials: Type.Object({}),
    async authorize() {
      return { status: 'declined', code: 'card_declined', declineCode: 'insufficient_funds', message: 'Insufficient funds.' };
    },
    async capture(input) {
      return { status: 'succeeded', reference: input.reference, amountCaptured: input.amount };
    },
    async cancel(input) {
      return { status: 'canceled', reference: input.reference };
    },
    async refund() {
      throw new ProcessorError('Too many requests.', { retryable: true, code: 'rate_limited' });
    },
    async sync(input) {
      return { kind: input.kind, status: 'not_found' };
    },
  }),
  {},
);

describe('onCall: the processor call record', () => {
  test('an approved call: outcome, attempts, duration and the idempotency key, nothing of the card', async () => {
    const { caller, processor, records } = setup();
    await caller.call(processor, 'authorize', cardInput);
    expect(records).toHaveLength(1);
    const [record] = records;
    expect(Value.Check(ProcessorCallRecord, record)).toBe(true);
    expect(record).toMatchObject({ processor: 'scripted', operation: 'authorize', kind: 'result', outcome: 'succeeded', attempts: 1, idempotencyKey: 'idem-1' });
    expect(record!.code).toBeUndefined();
    expect(record!.durationMs).toBeGreaterThanOrEqual(0);
    const text = JSON.stringify(record);
    for (const secret of ['4242424242424242', '123', '2030']) expect(text).not.toContain(`"${secret}"`);
    expect(text).not.toContain('4242');
  });

  test('a decline carries its decline code; a refused call its error code and the retries made', async () => {
    const records: ProcessorCallRecord[] = [];
    const caller = createProcessorCaller({ metrics: createMetrics(), logger: silentLogger, sleep: async () => {}, onCall: (record) => records.push(record) });
    await caller.call(decliner, 'authorize', cardInput);
    await caller.call(decliner, 'refund', { idempotencyKey: 'nimbus:re_1:refund', reference: 'ref_1', amount: 100, currency: 'EUR' });
    expect(records.map(({ operation, kind, outcome, code, attempts }) => ({ operation, kind, outcome, code, attempts }))).toEqual([
      { operation: 'authorize', kind: 'result', outcome: 'declined', code: 'insufficient_funds', attempts: 1 },
      { operation: 'refund', kind: 'error', outcome: 'processor_error', code: 'rate_limited', attempts: 3 },
    ]);
    expect(records[1]).toMatchObject({ idempotencyKey: 'nimbus:re_1:refund', reference: 'ref_1' });
  });

  test('timeouts, exceptions, an open circuit and invalid input are each recorded once', async () => {
    const { caller, processor, script, records } = setup();
    script.push({ type: 'hang' }, { type: 'throw', error: new Error('socket hang up') });
    await caller.call(processor, 'authorize', cardInput);
    await caller.call(processor, 'authorize', cardInput);
    await caller.call(processor, 'authorize', cardInput); // the breaker opened after two failures
    await caller.call(processor, 'authorize', { ...cardInput, amount: -1 });
    expect(records.map(({ kind, outcome, attempts }) => ({ kind, outcome, attempts }))).toEqual([
      { kind: 'unknown', outcome: 'timeout', attempts: 1 },
      { kind: 'unknown', outcome: 'exception', attempts: 1 },
      { kind: 'unknown', outcome: 'circuit_open', attempts: 0 },
      { kind: 'error', outcome: 'invalid_input', attempts: 0 },
    ]);
  });

  test('an observer that throws changes nothing about the call', async () => {
    const { caller, processor } = setup({
      onCall: () => {
        throw new Error('observer broken');
      },
    });
    expect(await caller.call(processor, 'authorize', cardInput)).toEqual({ kind: 'result', value: { status: 'succeeded', reference: 'toy_idem-1' } });
  });
});
