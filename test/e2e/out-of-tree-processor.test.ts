import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { defineProcessor, ProcessorError, WebhookSignatureError, type AuthorizeResult } from '../../processors/sdk/index.ts';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, type TestTenant } from '../helpers/auth';
import { call, card, CARDS, eventTypes, paymentBody } from '../helpers/payments';

/**
 * A processor defined here and nowhere else, as a platform engineer writes one outside
 * the tree: the app is built from the composition root with this connector listed
 * first, and a payment goes through it over HTTP. No file of runtime/ or plugins/
 * knows it exists.
 */
const ID = 'acmepay';
const CALLBACK_SECRET = 'acmepay-callback-secret-0123456789';

type Entry = { status: 'authorized' | 'succeeded' | 'canceled'; amount: number; captured: number; refunded: number };
const ledger = new Map<string, Entry>();
const seen: Array<{ operation: string; key: string; apiKey: string }> = [];

const acmepay = defineProcessor({
  id: ID,
  displayName: 'AcmePay (test double defined in a test)',
  supports: { methods: ['card'], currencies: ['EUR', 'USD'] },
  credentials: Type.Object({ apiKey: Type.String({ minLength: 8 }), callbackSecret: Type.String({ minLength: 16 }) }),
  env: { apiKey: 'ACMEPAY_API_KEY', callbackSecret: 'ACMEPAY_CALLBACK_SECRET' },
  async authorize(input, ctx): Promise<AuthorizeResult> {
    seen.push({ operation: 'authorize', key: input.idempotencyKey, apiKey: ctx.credentials.apiKey });
    // Typed by `supports.methods`: the card details, without importing the card plugin.
    const last4 = input.paymentMethod.card.number.slice(-4);
    if (last4 === '0002') return { status: 'declined', code: 'card_declined', declineCode: 'do_not_honor', message: 'AcmePay declined it.' };
    const reference = `acme_${input.idempotencyKey.replace(/[^a-zA-Z0-9]/g, '').slice(-20)}`;
    ledger.set(reference, { status: input.capture ? 'succeeded' : 'authorized', amount: input.amount, captured: input.capture ? input.amount : 0, refunded: 0 });
    return { status: input.capture ? 'succeeded' : 'authorized', reference };
  },
  async capture(input) {
    const entry = ledger.get(input.reference);
    if (!entry || entry.status !== 'authorized') throw new ProcessorError('Not capturable.', { retryable: false });
    Object.assign(entry, { status: 'succeeded', captured: input.amount });
    return { status: 'succeeded', reference: input.reference, amountCaptured: input.amount };
  },
  async cancel(input) {
    const entry = ledger.get(input.reference);
    if (!entry || entry.status !== 'authorized') throw new ProcessorError('Not cancelable.', { retryable: false });
    entry.status = 'canceled';
    return { status: 'canceled', reference: input.reference };
  },
  async refund(input) {
    const entry = ledger.get(input.reference);
    if (!entry || entry.refunded + input.amount > entry.captured) throw new ProcessorError('Over-refund.', { retryable: false });
    entry.refunded += input.amount;
    return { status: 'succeeded', reference: `acmere_${input.idempotencyKey.replace(/[^a-zA-Z0-9]/g, '').slice(-20)}` };
  },
  async sync(input) {
    const entry = input.reference ? ledger.get(input.reference) : undefined;
    if (!entry || !input.reference) return { kind: input.kind, status: 'not_found' as const };
    return { kind: 'payment' as const, reference: input.reference, status: entry.status };
  },
  async parseWebhook(request, ctx) {
    const body = await request.text();
    const given = Buffer.from(request.headers.get('acme-signature') ?? '', 'hex');
    const expected = createHmac('sha256', ctx.credentials.callbackSecret).update(body).digest();
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new WebhookSignatureError('bad_signature', 'Bad AcmePay signature.');
    const message = JSON.parse(body) as { id: string; reference: string; status: 'canceled' };
    return { eventId: message.id, kind: 'payment', reference: message.reference, status: message.status };
  },
});

let t: TestApp;
let acme: TestTenant;
beforeAll(async () => {
  t = await createTestApp({
    env: { ACMEPAY_API_KEY: 'acme-test-key-123', ACMEPAY_CALLBACK_SECRET: CALLBACK_SECRET },
    definition: { processors: [acmepay, ...(await import('../../nimbus.config')).default.processors] },
  });
  acme = await createTenant(t);
}, 30_000);
afterAll(() => t.close());

describe('an out-of-tree processor', () => {
  test('reads its credentials from the variables it declares', () => {
    expect<unknown>(t.registry.processor(ID)!.credentials).toEqual({ apiKey: 'acme-test-key-123', callbackSecret: CALLBACK_SECRET });
  });

  test('serves a card payment first in the routing order: authorize, partial capture, refund', async () => {
    const created = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { capture_method: 'manual' }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'requires_capture', processor: ID, amount_capturable: 2000 });
    expect(created.body.processor_reference).toStartWith('acme_');
    expect(seen.at(-1)).toMatchObject({ operation: 'authorize', apiKey: 'acme-test-key-123' });

    const captured = await call(t, 'POST', `/v1/payments/${created.body.id}/capture`, acme.token, { amount_to_capture: 1500 });
    expect(captured.status).toBe(200);
    expect(captured.body).toMatchObject({ status: 'succeeded', amount_received: 1500, amount_capturable: 0 });
    expect(ledger.get(created.body.processor_reference)).toMatchObject({ status: 'succeeded', captured: 1500 });

    const refund = await call(t, 'POST', '/v1/refunds', acme.token, { payment: created.body.id, amount: 500 });
    expect(refund.status).toBe(201);
    expect(refund.body).toMatchObject({ status: 'succeeded', amount: 500 });
    expect(await eventTypes(t, acme.token, created.body.id)).toEqual(['payment.created', 'payment.requires_capture', 'payment.succeeded']);
  });

  test('its declines are the API.md failure object', async () => {
    const declined = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.genericDecline)));
    expect(declined.status).toBe(201);
    expect(declined.body).toMatchObject({ status: 'failed', processor: ID, failure: { code: 'card_declined', decline_code: 'do_not_honor' } });
  });

  test('what it does not support still routes to the next processor (bank transfers, JPY)', async () => {
    const yen = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { currency: 'JPY' }));
    expect(yen.body).toMatchObject({ status: 'succeeded', processor: 'simulator' });
  });

  test('its signed callbacks reach the payment; a forged one changes nothing', async () => {
    const created = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { capture_method: 'manual' }));
    const message = JSON.stringify({ id: 'acmeevt_1', reference: created.body.processor_reference, status: 'canceled' });
    const send = (signature: string) =>
      t.request('POST', `/v1/processors/${ID}/webhooks`, { body: message, headers: { 'acme-signature': signature } });
    expect((await send('00'.repeat(32))).status).toBe(400);
    expect((await call(t, 'GET', `/v1/payments/${created.body.id}`, acme.token)).body.status).toBe('requires_capture');
    const genuine = await send(createHmac('sha256', CALLBACK_SECRET).update(message).digest('hex'));
    expect(genuine.status).toBe(200);
    expect((await call(t, 'GET', `/v1/payments/${created.body.id}`, acme.token)).body.status).toBe('canceled');
  });

  test('no file of runtime/ or plugins/ mentions it', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? files(join(dir, name)) : [join(dir, name)]));
    const root = join(import.meta.dir, '..', '..');
    const aware = [...files(join(root, 'runtime')), ...files(join(root, 'plugins'))].filter((file) => readFileSync(file, 'utf8').includes(ID));
    expect(aware).toEqual([]);
  });
});
