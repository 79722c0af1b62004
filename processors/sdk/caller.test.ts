import { describe, expect, test } from 'bun:test';
import { Writable } from 'node:stream';
import { createLogger, silentLogger } from '../../runtime/logger.ts';
import { createMetrics } from '../../runtime/metrics.ts';
import { configureProcessor } from './define.ts';
import { ProcessorError, ProcessorTimeoutError } from './errors.ts';
import { createProcessorCaller, type ProcessorCallerOptions } from './caller.ts';
import { cardInput, createScriptedProcessor } from './test-toy.ts';

function setup(overrides: Partial<ProcessorCallerOptions> = {}) {
  const toy = createScriptedProcessor();
  const processor = configureProcessor(toy.definition, { apiKey: 'k' });
  const metrics = createMetrics();
  let clock = 0;
  const caller = createProcessorCaller({
    metrics,
    logger: silentLogger,
    sleep: async () => {},
    now: () => clock,
    breaker: { failureThreshold: 3, openMs: 1000 },
    ...overrides,
  });
  return { ...toy, processor, metrics, caller, advance: (ms: number) => void (clock += ms) };
}

async function metricValue(metrics: ReturnType<typeof createMetrics>, name: string, labels: Record<string, string>) {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const match = metric?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return match?.value;
}

describe('processor call wrapper', () => {
  test('passes a valid result through and records its duration by outcome', async () => {
    const { caller, processor, metrics } = setup();
    const outcome = await caller.call(processor, 'authorize', cardInput);
    expect(outcome).toEqual({ kind: 'result', value: { status: 'succeeded', reference: 'toy_idem-1' } });
    const count = await metricValue(metrics, 'nimbus_processor_request_duration_seconds', {
      processor: 'scripted', operation: 'authorize', outcome: 'succeeded',
    });
    expect(count).toBeDefined();
    expect(await metrics.registry.metrics()).toContain('nimbus_processor_request_duration_seconds_count{processor="scripted",operation="authorize",outcome="succeeded"} 1');
  });

  test('a connector that never answers yields unknown/timeout after the processor timeout, and is aborted', async () => {
    const { caller, processor, script, calls, metrics } = setup();
    script.push({ type: 'hang' });
    const started = performance.now();
    const outcome = await caller.call(processor, 'authorize', cardInput);
    expect(outcome).toEqual({ kind: 'unknown', reason: 'timeout' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
    expect(calls[0]!.signal.aborted).toBe(true);
    expect(await metricValue(metrics, 'nimbus_processor_errors_total', { kind: 'timeout' })).toBe(1);
  });

  test('the timeout is configurable per processor', async () => {
    const { caller, processor, script } = setup({ timeoutMs: { scripted: 5 } });
    script.push({ type: 'hang' });
    const started = performance.now();
    expect(await caller.call(processor, 'authorize', cardInput)).toEqual({ kind: 'unknown', reason: 'timeout' });
    expect(performance.now() - started).toBeLessThan(45);
  });

  test('a thrown ProcessorTimeoutError or fetch TimeoutError is unknown, never declined', async () => {
    const { caller, processor, script } = setup();
    script.push({ type: 'throw', error: new ProcessorTimeoutError() });
    script.push({ type: 'throw', error: new DOMException('timed out', 'TimeoutError') });
    expect(await caller.call(processor, 'authorize', cardInput)).toEqual({ kind: 'unknown', reason: 'timeout' });
    expect(await caller.call(processor, 'authorize', cardInput)).toEqual({ kind: 'unknown', reason: 'timeout' });
  });

  test('an unexpected exception or a malformed result is unknown/error', async () => {
    const { caller, processor, script } = setup();
    script.push({ type: 'throw', error: new TypeError('socket hang up') }, { type: 'malformed' });
    expect(await caller.call(processor, 'authorize', cardInput)).toEqual({ kind: 'unknown', reason: 'error' });
    expect(await caller.call(processor, 'authorize', cardInput)).toEqual({ kind: 'unknown', reason: 'error' });
  });

  test('retryable errors are retried with the same idempotency key', async () => {
    const { caller, processor, script, calls } = setup();
    script.push({ type: 'throw', error: new ProcessorError('busy', { retryable: true }) });
    const outcome = await caller.call(processor, 'authorize', cardInput);
    expect(outcome.kind).toBe('result');
    expect(calls.map((c) => [c.idempotencyKey, c.attempt])).toEqual([['idem-1', 1], ['idem-1', 2]]);
  });

  test('retries stop after maxAttempts and report a retryable error', async () => {
    const { caller, processor, script, calls } = setup({ retry: { maxAttempts: 2 } });
    for (let i = 0; i < 3; i += 1) script.push({ type: 'throw', error: new ProcessorError('down', { retryable: true, code: 'x' }) });
    expect(await caller.call(processor, 'authorize', cardInput)).toEqual({ kind: 'error', retryable: true, message: 'down', code: 'x' });
    expect(calls).toHaveLength(2);
  });

  test('non-retryable errors, timeouts and unknown errors are never retried', async () => {
    const { caller, processor, script, calls } = setup();
    script.push({ type: 'throw', error: new ProcessorError('bad request', { retryable: false }) });
    expect(await caller.call(processor, 'authorize', cardInput)).toEqual({ kind: 'error', retryable: false, message: 'bad request' });
    script.push({ type: 'throw', error: new ProcessorTimeoutError() }, { type: 'throw', error: new Error('boom') });
    await caller.call(processor, 'authorize', cardInput);
    await caller.call(processor, 'authorize', cardInput);
    expect(calls).toHaveLength(3);
  });

  test('invalid input never reaches the connector and the error names no value', async () => {
    const { caller, processor, calls } = setup();
    const outcome = await caller.call(processor, 'authorize', { ...cardInput, amount: 10.5 });
    expect(outcome).toMatchObject({ kind: 'error', retryable: false });
    expect(JSON.stringify(outcome)).not.toContain('4242424242424242');
    expect(calls).toHaveLength(0);
    expect(await caller.call(processor, 'sync', { kind: 'payment' })).toMatchObject({ kind: 'error', retryable: false });
  });

  test('error messages are scrubbed of anything that looks like a card or account number', async () => {
    const { caller, processor, script } = setup();
    script.push({ type: 'throw', error: new ProcessorError('card 4242 4242 4242 4242 refused for DE89370400440532013000', { retryable: false }) });
    const outcome = await caller.call(processor, 'authorize', cardInput);
    expect(JSON.stringify(outcome)).not.toMatch(/4242 4242|DE8937/);
  });

  test('logs one line per call with ids and outcome, never the input', async () => {
    const lines: string[] = [];
    const destination = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
    const { caller, processor, script } = setup({ logger: createLogger({ destination }) });
    script.push({ type: 'throw', error: new ProcessorError('busy', { retryable: true }) });
    await caller.call(processor, 'authorize', cardInput);
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ processor: 'scripted', operation: 'authorize', idempotency_key: 'idem-1', outcome: 'succeeded', attempts: 2, result_reference: 'toy_idem-1' });
    expect(lines[0]).not.toContain('4242424242424242');
    expect(lines[0]).not.toContain('"123"');
  });
});

describe('circuit breaker in the call wrapper', () => {
  test('opens after repeated failures, fails fast while open, closes after a successful probe', async () => {
    const { caller, processor, script, calls, metrics, advance } = setup();
    for (let i = 0; i < 3; i += 1) script.push({ type: 'throw', error: new Error('connection refused') });
    for (let i = 0; i < 3; i += 1) await caller.call(processor, 'authorize', cardInput);
    expect(caller.circuitState('scripted')).toBe('open');
    expect(await metricValue(metrics, 'nimbus_processor_circuit_open', { processor: 'scripted' })).toBe(1);

    const started = performance.now();
    expect(await caller.call(processor, 'authorize', cardInput)).toEqual({ kind: 'unknown', reason: 'circuit_open' });
    expect(performance.now() - started).toBeLessThan(20);
    expect(calls).toHaveLength(3);
    expect(await metricValue(metrics, 'nimbus_processor_errors_total', { kind: 'circuit_open' })).toBe(1);

    advance(1000);
    expect(await caller.call(processor, 'authorize', cardInput)).toMatchObject({ kind: 'result' });
    expect(caller.circuitState('scripted')).toBe('closed');
    expect(await metricValue(metrics, 'nimbus_processor_circuit_open', { processor: 'scripted' })).toBe(0);
  });

  test('a failed probe re-opens the circuit', async () => {
    const { caller, processor, script, advance } = setup();
    for (let i = 0; i < 4; i += 1) script.push({ type: 'throw', error: new ProcessorTimeoutError() });
    for (let i = 0; i < 3; i += 1) await caller.call(processor, 'authorize', cardInput);
    advance(1000);
    expect(await caller.call(processor, 'authorize', cardInput)).toEqual({ kind: 'unknown', reason: 'timeout' });
    expect(caller.circuitState('scripted')).toBe('open');
    expect(await caller.call(processor, 'authorize', cardInput)).toEqual({ kind: 'unknown', reason: 'circuit_open' });
  });

  test('declines and non-retryable errors do not count as failures', async () => {
    const { caller, processor, script } = setup();
    for (let i = 0; i < 5; i += 1) script.push({ type: 'throw', error: new ProcessorError('invalid', { retryable: false }) });
    for (let i = 0; i < 5; i += 1) await caller.call(processor, 'authorize', cardInput);
    expect(caller.circuitState('scripted')).toBe('closed');
  });
});
