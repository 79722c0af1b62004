import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import postgres from 'postgres';
import { createSimulator } from '../../processors/simulator';
import { configureProcessor, createProcessorCaller } from '../../processors/sdk';
import { databaseProcessorState } from '../../runtime/processor-state';
import { silentLogger } from '../../runtime/logger';
import { createMetrics } from '../../runtime/metrics';
import { createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../helpers/db';

/**
 * Found by the replica-kill drill (test/reliability/replica-kill.drill.ts): reconciliation
 * re-sent a pending refund under its key while the request's own call with that key was
 * still running, and the simulator executed both. Its idempotency check read the key's
 * record before taking any lock, and on a key's first use there is no row to lock: both
 * calls refunded (the ledger counted the money twice), and the later one, refused for
 * exceeding what remained, overwrote the stored outcome, so NimbusPay recorded the
 * refund as failed while the processor had paid it out. A processor runs the calls of one
 * key one after the other: the second replays the first. PostgreSQL only (PGlite runs one
 * transaction at a time, so it cannot interleave them).
 */
if (!TEST_DATABASE_URL) console.warn('skipping simulator same-key concurrency: it needs PostgreSQL (set TEST_DATABASE_URL)');

describe.skipIf(!TEST_DATABASE_URL)('simulator: concurrent calls with one idempotency key', () => {
  let database: TestDatabase;
  let sql: ReturnType<typeof postgres>;
  const simulator = () => {
    const definition = createSimulator({ deliverCallback: async () => {} });
    return configureProcessor(definition, { callbackSecret: 'same-key-test-secret-0123456789' }, { state: databaseProcessorState(database)('simulator') });
  };
  const caller = createProcessorCaller({ metrics: createMetrics(), logger: silentLogger });
  const card = { type: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2030, cvc: '123' } } as const;

  beforeAll(async () => {
    database = await createTestDatabase();
    sql = postgres(database.url!, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await sql?.end({ timeout: 2 });
    await database?.close();
  });

  async function payment(n: number, capture: boolean): Promise<string> {
    const outcome = await caller.call(simulator(), 'authorize', { idempotencyKey: `pay-${n}-${capture}`, amount: 1000, currency: 'EUR', capture, paymentMethod: card });
    if (outcome.kind !== 'result' || !outcome.value.reference) throw new Error(`authorize: ${JSON.stringify(outcome)}`);
    return outcome.value.reference;
  }

  async function ledgerEntry(reference: string): Promise<{ amountRefunded: number; amountCaptured: number; status: string }> {
    const [row] = await sql`select value from processor_state where processor = 'simulator' and key = ${`payment:${reference}`}`;
    return (row as { value: { amountRefunded: number; amountCaptured: number; status: string } }).value;
  }

  test('two refunds with one key pay out once and answer alike', async () => {
    for (let n = 0; n < 8; n++) {
      const reference = await payment(n, true);
      const input = { idempotencyKey: `refund-${n}`, reference, amount: 700, currency: 'EUR' };
      const answers = await Promise.all([caller.call(simulator(), 'refund', input), caller.call(simulator(), 'refund', input)]);
      expect(answers[1]).toEqual(answers[0]);
      expect(answers[0]).toMatchObject({ kind: 'result', value: { status: 'succeeded' } });
      expect((await ledgerEntry(reference)).amountRefunded).toBe(700);
    }
  }, 60_000);

  test('two captures with one key capture once and answer alike', async () => {
    for (let n = 0; n < 8; n++) {
      const reference = await payment(n, false);
      const input = { idempotencyKey: `capture-${n}`, reference, amount: 800, currency: 'EUR' };
      const answers = await Promise.all([caller.call(simulator(), 'capture', input), caller.call(simulator(), 'capture', input)]);
      expect(answers[1]).toEqual(answers[0]);
      expect(answers[0]).toMatchObject({ kind: 'result', value: { status: 'succeeded', amountCaptured: 800 } });
      expect(await ledgerEntry(reference)).toMatchObject({ status: 'succeeded', amountCaptured: 800 });
    }
  }, 60_000);
});
