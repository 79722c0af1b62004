import { describe, expect, test } from 'bun:test';
import { Writable } from 'node:stream';
import nimbusConfig from '../../nimbus.config';
import { createProcessorCaller } from '../../processors/sdk/index.ts';
import { createSimulator } from '../../processors/simulator/index.ts';
import { ApiError } from '../../runtime/errors.ts';
import { createLogger } from '../../runtime/logger.ts';
import { createMetrics } from '../../runtime/metrics.ts';
import { createRegistry, type AnyRegistry, type PaymentMethodInput as PaymentMethodRequest } from '../../runtime/registry/index.ts';

/**
 * Runs every payment method through validation, redaction and the simulator (all table
 * outcomes, refunds, syncs, callbacks, invalid details), captures everything the module
 * logged, returned or threw, and searches it for the raw secrets.
 */
const CVC = '947';
const AMEX_CVC = '9471';
const CARDS = ['4242424242424242', '378282246310005', '4000000000000002', '4000000000000069', '4000000000000119', '4000000000000408', '4000000000005126'];
const IBANS = ['DE89370400440532013000', 'DE62370400440532013001', 'DE35370400440532013002'];
const ACCOUNTS = ['000123456789', '000111111116'];
const BAD = { pan: '4242424242424241', iban: 'DE00370400440532013000', account: '12' };

function methods(): Array<{ method: PaymentMethodRequest; currency: string }> {
  return [
    ...CARDS.map((number) => ({
      method: { type: 'card' as const, card: { number, exp_month: 12, exp_year: 2030, cvc: number.startsWith('37') ? AMEX_CVC : CVC, holder_name: 'Jane Doe' } },
      currency: 'EUR',
    })),
    ...IBANS.map((iban) => ({
      method: { type: 'bank_transfer' as const, bank_transfer: { scheme: 'sepa' as const, iban, bic: 'COBADEFFXXX', account_holder_name: 'Jane Doe' } },
      currency: 'EUR',
    })),
    ...ACCOUNTS.map((account_number) => ({
      method: {
        type: 'bank_transfer' as const,
        bank_transfer: { scheme: 'ach' as const, routing_number: '110000000', account_number, account_type: 'checking' as const, account_holder_name: 'Jane Doe' },
      },
      currency: 'USD',
    })),
  ];
}

describe('no card number, CVC or full account number escapes', () => {
  test('in anything logged, returned, thrown or called back', async () => {
    const logged: string[] = [];
    const destination = new Writable({ write(chunk, _enc, done) { logged.push(String(chunk)); done(); } });
    const logger = createLogger({ level: 'debug', destination });
    const callbacks: string[] = [];
    const registry = createRegistry({
      paymentMethods: nimbusConfig.paymentMethods,
      processors: [createSimulator({ settleMs: 5 })],
      credentials: { simulator: { callbackSecret: 'no-leak-test-secret-0123456789' } },
      deliverCallback: async (_id, request) => void callbacks.push(await request.text()),
    });
    // An assertion function needs an explicit type annotation to be called by name.
    const validatePaymentMethod: AnyRegistry['validatePaymentMethod'] = registry.validatePaymentMethod;
    const { redactPaymentMethod } = registry;
    const simulator = registry.processor('simulator');
    const caller = createProcessorCaller({ metrics: createMetrics(), logger, sleep: async () => {} });
    const seen: unknown[] = [];
    const ctx = (currency: string) => ({ currency, now: new Date('2026-11-25T12:00:00Z') });

    for (const [index, { method, currency }] of methods().entries()) {
      validatePaymentMethod(method, ctx(currency));
      seen.push(redactPaymentMethod(method, { fingerprintKey: 'no-leak-fingerprint-key-01234567' }));
      const key = `leak-${index}`;
      const outcome = await caller.call(simulator, 'authorize', { idempotencyKey: key, amount: 1000, currency, capture: true, paymentMethod: method });
      seen.push(outcome);
      seen.push(await caller.call(simulator, 'sync', { kind: 'payment', idempotencyKey: key }));
      if (outcome.kind === 'result' && outcome.value.status !== 'declined') {
        const { reference } = outcome.value;
        seen.push(await caller.call(simulator, 'refund', { idempotencyKey: `${key}-re`, reference, amount: 400, currency }));
        seen.push(await caller.call(simulator, 'capture', { idempotencyKey: `${key}-cap`, reference, amount: 1000, currency }));
      }
    }
    // Invalid input: the errors must name the field, not echo the value.
    const invalid: Array<{ method: unknown; currency: string }> = [
      { method: { type: 'card', card: { number: BAD.pan, exp_month: 12, exp_year: 2030, cvc: CVC } }, currency: 'EUR' },
      { method: { type: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2030, cvc: `${CVC}1` } }, currency: 'EUR' },
      { method: { type: 'bank_transfer', bank_transfer: { scheme: 'sepa', iban: BAD.iban, account_holder_name: 'J' } }, currency: 'EUR' },
      { method: { type: 'bank_transfer', bank_transfer: { scheme: 'ach', routing_number: '110000000', account_number: `${ACCOUNTS[0]}x`, account_type: 'checking', account_holder_name: 'J' } }, currency: 'USD' },
    ];
    for (const { method, currency } of invalid) {
      try {
        validatePaymentMethod(method, ctx(currency));
      } catch (error) {
        expect(error).toBeInstanceOf(ApiError);
        seen.push((error as ApiError).toBody(), (error as Error).message);
      }
    }
    await caller.call(simulator, 'authorize', { idempotencyKey: 'bad', amount: 1.5, currency: 'EUR', capture: true, paymentMethod: methods()[0]!.method }).then((o) => seen.push(o));
    await Bun.sleep(40);

    const haystack = [JSON.stringify(seen), ...logged, ...callbacks].join('\n');
    expect(logged.length).toBeGreaterThan(10);
    expect(callbacks.length).toBeGreaterThan(0);
    for (const secret of [...CARDS, BAD.pan, ...IBANS, BAD.iban, ...ACCOUNTS]) expect(haystack).not.toContain(secret);
    for (const cvc of [CVC, AMEX_CVC]) expect(haystack).not.toMatch(new RegExp(`["=:]${cvc}\\b`));
    expect(haystack).not.toMatch(/"(number|cvc|iban|account_number)"/);
  });
});
