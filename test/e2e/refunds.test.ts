import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, type TestTenant } from '../helpers/auth';
import { call, card, CARDS, eventTypes, eventually, IBANS, paymentBody, sepa, type Json } from '../helpers/payments';

/** API.md "Refunds": full, partial, several partials, never past amount_received, statuses and events. */

let t: TestApp;
let acme: TestTenant;
beforeAll(async () => {
  t = await createTestApp();
  acme = await createTenant(t);
}, 30_000);
afterAll(() => t.close());

const post = (path: string, body?: unknown) => call(t, 'POST', path, acme.token, body);
const getPayment = async (id: string) => (await call(t, 'GET', `/v1/payments/${id}`, acme.token)).body as Json;

async function succeeded(amount = 5000, number: string = CARDS.visa): Promise<Json> {
  const created = await post('/v1/payments', paymentBody(card(number), { amount }));
  expect(created.body.status).toBe('succeeded');
  return created.body;
}

describe('refunds of a card payment', () => {
  test('full refund by default: succeeded at once, events created then succeeded', async () => {
    const payment = await succeeded();
    const refund = await post('/v1/refunds', { payment: payment.id, reason: 'requested_by_customer', metadata: { ticket: '7' } });
    expect(refund.status).toBe(201);
    expect(refund.body).toMatchObject({
      object: 'refund',
      payment: payment.id,
      amount: 5000,
      currency: 'EUR',
      status: 'succeeded',
      reason: 'requested_by_customer',
      failure: null,
      metadata: { ticket: '7' },
    });
    expect(refund.body.id).toMatch(/^re_/);
    expect(await eventTypes(t, acme.token, refund.body.id)).toEqual(['refund.created', 'refund.succeeded']);
    const events = await call(t, 'GET', `/v1/events?object_id=${refund.body.id}`, acme.token);
    expect(events.body.data[1].data.object.status).toBe('pending');
    expect(events.body.data[0].data.object.status).toBe('succeeded');
    const after = await getPayment(payment.id);
    expect(after).toMatchObject({ status: 'succeeded', amount_refunded: 5000, amount_received: 5000 });
    // Refunds never change the payment's status, and emit no payment event.
    expect(await eventTypes(t, acme.token, payment.id)).toEqual(['payment.created', 'payment.succeeded']);
    const nothingLeft = await post('/v1/refunds', { payment: payment.id });
    expect([nothingLeft.status, nothingLeft.body.error.code]).toEqual([409, 'refund_exceeds_captured']);
  });

  test('several partial refunds up to the received amount, then 409', async () => {
    const payment = await succeeded(5000);
    expect((await post('/v1/refunds', { payment: payment.id, amount: 1000 })).body.status).toBe('succeeded');
    expect((await post('/v1/refunds', { payment: payment.id, amount: 2500 })).body.status).toBe('succeeded');
    const over = await post('/v1/refunds', { payment: payment.id, amount: 1501 });
    expect([over.status, over.body.error.type, over.body.error.code]).toEqual([409, 'invalid_request_error', 'refund_exceeds_captured']);
    const rest = await post('/v1/refunds', { payment: payment.id });
    expect(rest.body).toMatchObject({ amount: 1500, status: 'succeeded' });
    expect((await getPayment(payment.id)).amount_refunded).toBe(5000);
    const listed = await call(t, 'GET', `/v1/refunds?payment=${payment.id}`, acme.token);
    expect(listed.body.data.map((refund: Json) => refund.amount)).toEqual([1500, 2500, 1000]);
  });

  test('partial capture: refundable is what was received', async () => {
    const created = await post('/v1/payments', paymentBody(card(CARDS.visa), { amount: 5000, capture_method: 'manual' }));
    await post(`/v1/payments/${created.body.id}/capture`, { amount_to_capture: 2000 });
    const over = await post('/v1/refunds', { payment: created.body.id, amount: 2001 });
    expect(over.status).toBe(409);
    expect((await post('/v1/refunds', { payment: created.body.id })).body.amount).toBe(2000);
  });

  test('20 concurrent partial refunds never exceed the captured amount', async () => {
    const payment = await succeeded(5000);
    const answers = await Promise.all(Array.from({ length: 20 }, () => post('/v1/refunds', { payment: payment.id, amount: 1000 })));
    const created = answers.filter((answer) => answer.status === 201);
    expect(created).toHaveLength(5);
    for (const answer of answers.filter((candidate) => candidate.status !== 201)) {
      expect([answer.status, answer.body.error.code]).toEqual([409, 'refund_exceeds_captured']);
    }
    expect((await getPayment(payment.id)).amount_refunded).toBe(5000);
  });

  test('a refund the processor refuses ends failed and frees the amount again', async () => {
    const payment = await succeeded(3000, CARDS.refundFails);
    const refund = await post('/v1/refunds', { payment: payment.id, amount: 3000 });
    expect(refund.status).toBe(201);
    expect(refund.body).toMatchObject({ status: 'failed', failure: { code: expect.any(String), message: expect.any(String) } });
    expect(await eventTypes(t, acme.token, refund.body.id)).toEqual(['refund.created', 'refund.failed']);
    expect((await getPayment(payment.id)).amount_refunded).toBe(0);
    // Failed refunds do not count against what remains.
    expect((await post('/v1/refunds', { payment: payment.id, amount: 3000 })).status).toBe(201);
  });
});

describe('refunds of a bank transfer', () => {
  test('pending at first, succeeded by the processor callback', async () => {
    const created = await post('/v1/payments', paymentBody(sepa(IBANS.settles)));
    const payment = await eventually(async () => {
      const current = await getPayment(created.body.id);
      return current.status === 'succeeded' ? current : undefined;
    });
    const refund = await post('/v1/refunds', { payment: payment.id, amount: 500 });
    expect(refund.body).toMatchObject({ status: 'pending', amount: 500 });
    expect((await getPayment(payment.id)).amount_refunded).toBe(0);
    const settled = await eventually(async () => {
      const current = (await call(t, 'GET', `/v1/refunds/${refund.body.id}`, acme.token)).body;
      return current.status === 'pending' ? undefined : current;
    });
    expect(settled.status).toBe('succeeded');
    expect((await getPayment(payment.id)).amount_refunded).toBe(500);
    expect(await eventTypes(t, acme.token, refund.body.id)).toEqual(['refund.created', 'refund.succeeded']);
  });
});

describe('refund errors', () => {
  test('payment not succeeded: 409 payment_unexpected_state', async () => {
    const failed = await post('/v1/payments', paymentBody(card(CARDS.genericDecline)));
    const refund = await post('/v1/refunds', { payment: failed.body.id });
    expect([refund.status, refund.body.error.code]).toEqual([409, 'payment_unexpected_state']);
    const authorized = await post('/v1/payments', paymentBody(card(CARDS.visa), { capture_method: 'manual' }));
    expect((await post('/v1/refunds', { payment: authorized.body.id })).status).toBe(409);
  });

  test('unknown or foreign payment: 404 with param payment', async () => {
    const missing = await post('/v1/refunds', { payment: 'pay_doesnotexist' });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: 'resource_missing', param: 'payment' });
    const other = await createTenant(t, { name: 'Other' });
    const foreign = await call(t, 'POST', '/v1/payments', other.token, paymentBody(card(CARDS.visa)));
    expect((await post('/v1/refunds', { payment: foreign.body.id })).status).toBe(404);
    expect((await call(t, 'GET', `/v1/refunds?payment=${foreign.body.id}`, acme.token)).status).toBe(404);
  });

  test('validation: missing payment, bad amount, bad reason, unknown field', async () => {
    const payment = await succeeded();
    expect((await post('/v1/refunds', {})).body.error).toMatchObject({ code: 'parameter_missing', param: 'payment' });
    expect((await post('/v1/refunds', { payment: payment.id, amount: 0 })).body.error).toMatchObject({ param: 'amount' });
    expect((await post('/v1/refunds', { payment: payment.id, reason: 'abandoned' })).body.error).toMatchObject({ param: 'reason' });
    expect((await post('/v1/refunds', { payment: payment.id, extra: 1 })).body.error).toMatchObject({ code: 'parameter_unknown' });
    expect((await getPayment(payment.id)).amount_refunded).toBe(0);
  });

  test('retrieve and list: 404 for unknown ids, pagination', async () => {
    expect((await call(t, 'GET', '/v1/refunds/re_nope', acme.token)).status).toBe(404);
    const page = await call(t, 'GET', '/v1/refunds?limit=2', acme.token);
    expect(page.body).toMatchObject({ object: 'list', has_more: true });
    expect(page.body.data).toHaveLength(2);
    const next = await call(t, 'GET', `/v1/refunds?limit=2&starting_after=${page.body.data[1].id}`, acme.token);
    expect(next.body.data[0].id).not.toBe(page.body.data[1].id);
  });

  test('refund metrics by status', async () => {
    const text = await (await t.request('GET', '/metrics')).text();
    expect(text).toMatch(/nimbus_refunds_total\{status="succeeded"\} \d+/);
    expect(text).toMatch(/nimbus_refunds_total\{status="failed"\} \d+/);
  });
});
