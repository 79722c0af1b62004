import { describe, expect, test } from 'bun:test';
import { createHmac } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { PaymentMethodInput as PaymentMethodRequest } from '../../runtime/registry/index.ts';
import { defineProcessor, WebhookSignatureError, type SyncResult } from '../sdk/index.ts';
import { describeProcessorConformance, runConformance, type ConformanceFixtures, type ConformanceOptions } from './index.ts';

/**
 * A second connector, written only against the SDK, to prove a connector needs no core
 * change. `broken` plants one realistic bug, to prove the kit catches it.
 */
type Bug = 'decline_as_success' | 'new_reference_per_call' | 'refunds_never_fail' | 'unverified_webhooks' | 'timeout_as_decline';

function createToy(broken?: Bug) {
  const payments = new Map<string, { status: 'authorized' | 'succeeded' | 'canceled' | 'failed' | 'pending'; captured: number; refunded: number; noRefunds: boolean; code?: string }>();
  const refunds = new Map<string, { status: 'succeeded' | 'failed'; code?: string }>();
  let settled = false;
  let counter = 0;
  const ref = (key: string) => (broken === 'new_reference_per_call' ? `toy_${key}_${(counter += 1)}` : `toy_${key}`);

  const processor = defineProcessor({
    id: 'toy',
    supports: { methods: ['card', 'bank_transfer'], currencies: ['EUR'] },
    credentials: Type.Object({ webhookSecret: Type.String({ minLength: 8 }) }),
    async authorize(input, ctx) {
      const reference = ref(input.idempotencyKey);
      const method = input.paymentMethod;
      const existing = payments.get(reference);
      if (existing && existing.status !== 'failed') return { status: existing.status === 'pending' ? 'pending' : input.capture ? 'succeeded' : 'authorized', reference } as const;
      if (method.type === 'bank_transfer') {
        payments.set(reference, { status: 'pending', captured: 0, refunded: 0, noRefunds: false });
        return { status: 'pending', reference };
      }
      if (method.card.number.endsWith('0408')) {
        if (broken === 'timeout_as_decline') return { status: 'declined', code: 'card_declined', message: 'no answer' };
        return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
      }
      if (method.card.number.endsWith('0002') && broken !== 'decline_as_success') {
        payments.set(reference, { status: 'failed', captured: 0, refunded: 0, noRefunds: false, code: 'card_declined' });
        return { status: 'declined', reference, code: 'card_declined', declineCode: 'do_not_honor', message: 'Declined.' };
      }
      const status = input.capture ? 'succeeded' : 'authorized';
      payments.set(reference, { status, captured: input.capture ? input.amount : 0, refunded: 0, noRefunds: method.card.number.endsWith('5126') });
      return { status, reference };
    },
    async capture(input) {
      const payment = payments.get(input.reference);
      if (payment?.status !== 'authorized') return { status: 'failed', reference: input.reference, code: 'invalid_state', message: 'Not capturable.' };
      Object.assign(payment, { status: 'succeeded', captured: input.amount });
      return { status: 'succeeded', reference: input.reference, amountCaptured: input.amount };
    },
    async cancel(input) {
      const payment = payments.get(input.reference);
      if (payment?.status !== 'authorized') return { status: 'failed', reference: input.reference, code: 'invalid_state', message: 'Not cancelable.' };
      payment.status = 'canceled';
      return { status: 'canceled', reference: input.reference };
    },
    async refund(input) {
      const reference = `toy_re_${input.idempotencyKey}`;
      const known = refunds.get(reference);
      if (known) return known.status === 'failed' ? { status: 'failed', reference, code: known.code ?? 'x', message: 'Refused.' } : { status: 'succeeded', reference };
      const payment = payments.get(input.reference);
      const refusable = !payment || payment.status !== 'succeeded' || payment.noRefunds || input.amount > payment.captured - payment.refunded;
      if (refusable && broken !== 'refunds_never_fail') {
        refunds.set(reference, { status: 'failed', code: 'refund_refused' });
        return { status: 'failed', reference, code: 'refund_refused', message: 'Refused.' };
      }
      if (payment) payment.refunded += input.amount;
      refunds.set(reference, { status: 'succeeded' });
      return { status: 'succeeded', reference };
    },
    async sync(input): Promise<SyncResult> {
      if (input.kind === 'refund') {
        const refund = input.reference ? refunds.get(input.reference) : undefined;
        if (!refund || !input.reference) return { kind: 'refund', status: 'not_found' };
        return refund.status === 'failed'
          ? { kind: 'refund', reference: input.reference, status: 'failed', code: refund.code ?? 'x', message: 'Refused.' }
          : { kind: 'refund', reference: input.reference, status: 'succeeded' };
      }
      const payment = input.reference ? payments.get(input.reference) : undefined;
      if (!payment || !input.reference) return { kind: 'payment', status: 'not_found' };
      if (payment.status === 'pending' && settled) payment.status = 'succeeded';
      if (payment.status === 'failed') return { kind: 'payment', reference: input.reference, status: 'failed', code: payment.code ?? 'x', message: 'Failed.' };
      return { kind: 'payment', reference: input.reference, status: payment.status };
    },
    async parseWebhook(request, ctx) {
      const body = await request.text();
      const expected = createHmac('sha256', ctx.credentials.webhookSecret).update(body).digest('hex');
      if (broken !== 'unverified_webhooks' && request.headers.get('toy-signature') !== expected) {
        throw new WebhookSignatureError('bad_signature', 'Bad signature.');
      }
      try {
        const { id, reference } = JSON.parse(body) as { id: string; reference: string };
        return { eventId: id, kind: 'payment', reference, status: 'succeeded' };
      } catch {
        throw new WebhookSignatureError('malformed', 'Not JSON.');
      }
    },
  });
  return { processor, settle: () => void (settled = true) };
}

const card = (number: string): PaymentMethodRequest => ({ type: 'card', card: { number, exp_month: 12, exp_year: 2030, cvc: '123' } });

const toyFixtures: ConformanceFixtures = {
  currency: 'EUR',
  amount: 1000,
  methods: {
    approved: card('4242424242424242'),
    declined: [{ method: card('4000000000000002'), code: 'card_declined', declineCode: 'do_not_honor' }],
    refundFails: card('4000000000005126'),
    pending: {
      method: { type: 'bank_transfer', bank_transfer: { scheme: 'sepa', iban: 'DE89370400440532013000', account_holder_name: 'J' } },
      currency: 'EUR',
      settlesTo: 'succeeded',
    },
    timeout: card('4000000000000408'),
  },
};

function toyOptions(broken?: Bug): ConformanceOptions {
  return {
    name: broken ? `toy (${broken})` : 'toy',
    fixtures: toyFixtures,
    timeoutMs: 30,
    factory() {
      const toy = createToy(broken);
      return {
        processor: toy.processor,
        credentials: { webhookSecret: 'toy-secret' },
        settle: toy.settle,
        webhook() {
          const body = JSON.stringify({ id: 'evt_1', reference: 'toy_x' });
          const signature = createHmac('sha256', 'toy-secret').update(body).digest('hex');
          return new Request('http://localhost/', { method: 'POST', headers: { 'toy-signature': signature }, body });
        },
      };
    },
  };
}

describeProcessorConformance(toyOptions());

describe('the conformance kit can fail', () => {
  test.each([
    ['decline_as_success', 'decline mapping'],
    ['new_reference_per_call', 'idempotent replay'],
    ['refunds_never_fail', 'refund failure'],
    ['unverified_webhooks', 'webhook signatures'],
    ['timeout_as_decline', 'timeout'],
  ] as const)('a toy with bug %s fails the %s check', async (bug, check) => {
    const reports = await runConformance(toyOptions(bug));
    const failed = reports.filter((report) => !report.passed).map((report) => report.check);
    expect(failed.some((name) => name.startsWith(check))).toBe(true);
  });

  test('the healthy toy passes every check through runConformance too', async () => {
    const reports = await runConformance(toyOptions());
    expect(reports.filter((report) => !report.passed)).toEqual([]);
    expect(reports).toHaveLength(12);
  });

  test('invalid fixtures are refused before any check runs', async () => {
    await expect(runConformance({ ...toyOptions(), fixtures: { ...toyFixtures, amount: 3 } })).rejects.toThrow(/fixtures/);
  });
});
