import { describe, expect, test } from 'bun:test';
import { silentLogger } from '../../runtime/logger.ts';
import { createMetrics } from '../../runtime/metrics.ts';
import type { PaymentMethodInput as PaymentMethodRequest } from '../../runtime/registry/index.ts';
import { configureProcessor, createProcessorCaller, WebhookSignatureError, type AuthorizeInput, type WebhookEvent } from '../sdk/index.ts';
import { createSimulator, signedCallbackRequest, type SimulatorOptions } from './index.ts';

const SECRET = 'simulator-test-secret-0123456789';

function setup(options: SimulatorOptions = {}) {
  let clock = Date.parse('2026-11-25T12:00:00.000Z');
  const simulator = configureProcessor(createSimulator({ now: () => clock, ...options }), { callbackSecret: SECRET });
  const caller = createProcessorCaller({ metrics: createMetrics(), logger: silentLogger, sleep: async () => {} });
  let counter = 0;
  return {
    simulator,
    caller,
    advance: (ms: number) => void (clock += ms),
    authorize: (paymentMethod: PaymentMethodRequest, extra: Partial<AuthorizeInput> = {}) =>
      caller.call(simulator, 'authorize', {
        idempotencyKey: `key-${(counter += 1)}`,
        amount: 2000,
        currency: paymentMethod.type === 'card' ? 'EUR' : (paymentMethod.bank_transfer as { scheme: string }).scheme === 'ach' ? 'USD' : 'EUR',
        capture: true,
        paymentMethod,
        ...extra,
      }),
  };
}

const cardMethod = (number: string): PaymentMethodRequest => ({
  type: 'card',
  card: { number, exp_month: 12, exp_year: 2030, cvc: number.startsWith('37') ? '1234' : '123' },
});
const sepaMethod = (iban: string): PaymentMethodRequest => ({
  type: 'bank_transfer',
  bank_transfer: { scheme: 'sepa', iban, account_holder_name: 'Jane Doe' },
});
const achMethod = (account: string): PaymentMethodRequest => ({
  type: 'bank_transfer',
  bank_transfer: { scheme: 'ach', routing_number: '110000000', account_number: account, account_type: 'checking', account_holder_name: 'Jane Doe' },
});

describe('simulator: API.md card table through the SDK', () => {
  test.each(['4242424242424242', '5555555555554444', '378282246310005', '6011111111111117', '4000000000005126'])(
    '%s is approved',
    async (number) => {
      const { authorize } = setup();
      const outcome = await authorize(cardMethod(number));
      expect(outcome).toEqual({ kind: 'result', value: { status: 'succeeded', reference: expect.stringMatching(/^sim_/) } });
      const held = await authorize(cardMethod(number), { capture: false });
      expect(held.kind === 'result' && held.value.status).toBe('authorized');
    },
  );

  test.each([
    ['4000000000000002', 'card_declined', 'generic_decline'],
    ['4000000000009995', 'card_declined', 'insufficient_funds'],
    ['4000000000009987', 'card_declined', 'lost_card'],
    ['4000000000000069', 'expired_card', undefined],
    ['4000000000000127', 'incorrect_cvc', undefined],
  ])('%s is declined with %s / %s', async (number, code, declineCode) => {
    const { authorize } = setup();
    const outcome = await authorize(cardMethod(number));
    if (outcome.kind !== 'result' || outcome.value.status !== 'declined') throw new Error(`not declined: ${JSON.stringify(outcome)}`);
    expect(outcome.value.code).toBe(code as 'card_declined');
    expect(outcome.value.declineCode).toBe(declineCode);
  });

  test('4000000000000119 is a retryable processor error', async () => {
    const { authorize } = setup();
    expect(await authorize(cardMethod('4000000000000119'))).toMatchObject({ kind: 'error', retryable: true });
  });

  test('4000000000000408 times out at once (unknown), and a later sync reports approved', async () => {
    const { authorize, caller, simulator } = setup();
    const started = performance.now();
    const outcome = await authorize(cardMethod('4000000000000408'), { idempotencyKey: 'timeout-key' });
    expect(outcome).toEqual({ kind: 'unknown', reason: 'timeout' });
    expect(performance.now() - started).toBeLessThan(500);
    const synced = await caller.call(simulator, 'sync', { kind: 'payment', idempotencyKey: 'timeout-key' });
    expect(synced).toMatchObject({ kind: 'result', value: { kind: 'payment', status: 'succeeded' } });
  });

  test('4000000000005126: approved, but every refund fails', async () => {
    const { authorize, caller, simulator } = setup();
    const outcome = await authorize(cardMethod('4000000000005126'));
    if (outcome.kind !== 'result' || outcome.value.status !== 'succeeded') throw new Error('not approved');
    for (const amount of [500, 2000]) {
      const refund = await caller.call(simulator, 'refund', {
        idempotencyKey: `refund-${amount}`, reference: outcome.value.reference, amount, currency: 'EUR',
      });
      expect(refund).toMatchObject({ kind: 'result', value: { status: 'failed', code: 'refund_declined' } });
    }
  });
});

describe('simulator: bank transfers settle later', () => {
  test.each([
    ['SEPA DE89370400440532013000', sepaMethod('DE89370400440532013000'), { status: 'succeeded' }],
    ['SEPA any other valid IBAN', sepaMethod('FR1420041010050500013M02606'), { status: 'succeeded' }],
    ['ACH 000123456789', achMethod('000123456789'), { status: 'succeeded' }],
    ['SEPA DE62370400440532013001', sepaMethod('DE62370400440532013001'), { status: 'failed', code: 'AC04' }],
    ['ACH 000111111116', achMethod('000111111116'), { status: 'failed', code: 'R01' }],
    ['SEPA DE35370400440532013002', sepaMethod('DE35370400440532013002'), { status: 'succeeded' }],
  ] as const)('%s: pending, then %o after settle time', async (_name, method, final) => {
    const { authorize, caller, simulator, advance } = setup({ settleMs: 2000 });
    const outcome = await authorize(method);
    if (outcome.kind !== 'result' || outcome.value.status !== 'pending') throw new Error('not pending');
    const reference = outcome.value.reference;
    const before = await caller.call(simulator, 'sync', { kind: 'payment', reference });
    expect(before).toMatchObject({ kind: 'result', value: { status: 'pending', reference } });
    advance(2000);
    const after = await caller.call(simulator, 'sync', { kind: 'payment', reference });
    expect(after).toMatchObject({ kind: 'result', value: { ...final, reference } });
  });

  test('a settling transfer delivers a signed callback that parseWebhook accepts', async () => {
    const delivered: Request[] = [];
    const { authorize, simulator } = setup({ settleMs: 5, deliverCallback: async (_id, request) => void delivered.push(request) });
    const outcome = await authorize(achMethod('000111111116'));
    const reference = outcome.kind === 'result' ? outcome.value.reference : undefined;
    await Bun.sleep(30);
    expect(delivered).toHaveLength(1);
    const event = (await simulator.parseWebhook(delivered[0]!)) as WebhookEvent;
    expect(event).toMatchObject({ kind: 'payment', reference, status: 'failed', code: 'R01' });
    expect(event.eventId).toMatch(/^simevt_/);
  });

  test('DE35370400440532013002 sends no callback: only reconciliation sees it settle', async () => {
    const delivered: Request[] = [];
    const { authorize } = setup({ settleMs: 5, deliverCallback: async (_id, request) => void delivered.push(request) });
    await authorize(sepaMethod('DE35370400440532013002'));
    await Bun.sleep(30);
    expect(delivered).toHaveLength(0);
  });

  test('the timeout card delivers its approval by callback too', async () => {
    const delivered: Request[] = [];
    const { authorize, simulator } = setup({ settleMs: 5, deliverCallback: async (_id, request) => void delivered.push(request) });
    await authorize(cardMethod('4000000000000408'), { capture: false });
    await Bun.sleep(30);
    expect(await simulator.parseWebhook(delivered[0]!)).toMatchObject({ kind: 'payment', status: 'authorized' });
  });
});

describe('simulator: determinism, latency, signatures', () => {
  test('the same idempotency key replays the same result and reference', async () => {
    const { authorize } = setup();
    const first = await authorize(cardMethod('4242424242424242'), { idempotencyKey: 'same' });
    const again = await authorize(cardMethod('4242424242424242'), { idempotencyKey: 'same' });
    expect(again).toEqual(first);
    const elsewhere = await setup().authorize(cardMethod('4242424242424242'), { idempotencyKey: 'same' });
    expect(elsewhere).toEqual(first);
  });

  test('reusing a key for a different request is refused', async () => {
    const { authorize } = setup();
    await authorize(cardMethod('4242424242424242'), { idempotencyKey: 'k' });
    const other = await authorize(cardMethod('4242424242424242'), { idempotencyKey: 'k', amount: 1 });
    expect(other).toMatchObject({ kind: 'error', retryable: false, code: 'idempotency_key_reused' });
  });

  test('NIMBUS_SIMULATOR_LATENCY_MS is added to every call', async () => {
    const { authorize } = setup({ latencyMs: 40 });
    const started = performance.now();
    await authorize(cardMethod('4242424242424242'));
    expect(performance.now() - started).toBeGreaterThanOrEqual(35);
  });

  test('callbacks with a wrong secret, a tampered body or no signature are rejected', async () => {
    const { simulator } = setup();
    const callback = {
      id: 'simevt_abc', type: 'payment.updated' as const, created: Math.floor(Date.parse('2026-11-25T12:00:00.000Z') / 1000),
      data: { reference: 'sim_x', status: 'succeeded' as const },
    };
    const forged = signedCallbackRequest('another-secret-of-enough-length', callback, { timestamp: callback.created });
    await expect(simulator.parseWebhook(forged)).rejects.toBeInstanceOf(WebhookSignatureError);
    const unsigned = new Request('http://localhost/', { method: 'POST', body: JSON.stringify(callback) });
    await expect(simulator.parseWebhook(unsigned)).rejects.toMatchObject({ reason: 'missing_signature' });
    const genuine = signedCallbackRequest(SECRET, callback, { timestamp: callback.created });
    const tampered = new Request(genuine.url, { method: 'POST', headers: genuine.headers, body: (await genuine.clone().text()).replace('succeeded', 'failed') });
    await expect(simulator.parseWebhook(tampered)).rejects.toMatchObject({ reason: 'bad_signature' });
    const stale = signedCallbackRequest(SECRET, callback, { timestamp: callback.created - 3600 });
    await expect(simulator.parseWebhook(stale)).rejects.toMatchObject({ reason: 'stale' });
    expect(await simulator.parseWebhook(genuine)).toEqual({ eventId: 'simevt_abc', kind: 'payment', reference: 'sim_x', status: 'succeeded' });
  });
});
