import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { eq } from 'drizzle-orm';
import { schema } from '../../db';
import { signedCallbackRequest, type SimulatorCallback } from '../../processors/simulator/index.ts';
import { createSimulator } from '../../processors/simulator/index.ts';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, type TestTenant } from '../helpers/auth';
import { call, card, CARDS, eventTypes, IBANS, paymentBody, sepa, type Json } from '../helpers/payments';

/** POST /v1/processors/:processor/webhooks (API.md "Processor callbacks"). */

const SECRET = 'callback-test-secret-0123456789';
let t: TestApp;
let acme: TestTenant;
beforeAll(async () => {
  // Callbacks are not delivered automatically here: the tests send them by hand.
  t = await createTestApp({
    definition: { processors: [createSimulator({ settleMs: 60_000 })] },
    credentials: { simulator: { callbackSecret: SECRET } },
  });
  acme = await createTenant(t);
}, 30_000);
afterAll(() => t.close());

function callback(reference: string, data: Partial<SimulatorCallback['data']>, id = `simevt_${Math.random().toString(36).slice(2)}`): SimulatorCallback {
  return { id, type: 'payment.updated', created: Math.floor(Date.now() / 1000), data: { reference, status: 'succeeded', ...data } };
}

async function deliver(request: Request) {
  const response = await t.app.handle(request);
  return { status: response.status, body: (await response.json()) as Json };
}

async function processing(): Promise<Json> {
  const created = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(sepa(IBANS.settles)));
  expect(created.body.status).toBe('processing');
  return created.body;
}

const get = async (id: string) => (await call(t, 'GET', `/v1/payments/${id}`, acme.token)).body as Json;

describe('processor callbacks', () => {
  test('a signed callback settles the payment; its replay answers 200 and changes nothing', async () => {
    const payment = await processing();
    const message = callback(payment.processor_reference, { status: 'succeeded' });
    const first = await deliver(signedCallbackRequest(SECRET, message));
    expect(first).toEqual({ status: 200, body: { received: true, outcome: 'applied' } });
    const settled = await get(payment.id);
    expect(settled.status).toBe('succeeded');
    const replay = await deliver(signedCallbackRequest(SECRET, message));
    expect(replay).toEqual({ status: 200, body: { received: true, outcome: 'duplicate' } });
    expect(await get(payment.id)).toEqual(settled);
    expect(await eventTypes(t, acme.token, payment.id)).toEqual(['payment.created', 'payment.processing', 'payment.succeeded']);
  });

  test('a return code fails the payment with failure.code', async () => {
    const payment = await processing();
    const answer = await deliver(signedCallbackRequest(SECRET, callback(payment.processor_reference, { status: 'failed', code: 'AC04', message: 'Account closed.' })));
    expect(answer.status).toBe(200);
    expect((await get(payment.id)).failure).toMatchObject({ code: 'AC04' });
  });

  test('unsigned or badly signed: 400 and nothing changes', async () => {
    const payment = await processing();
    const message = callback(payment.processor_reference, { status: 'succeeded' });
    const forged = await deliver(signedCallbackRequest('not-the-secret-0123456789', message));
    expect(forged.status).toBe(400);
    expect(forged.body.error.type).toBe('invalid_request_error');
    const unsigned = await t.app.handle(
      new Request('http://localhost/v1/processors/simulator/webhooks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(message) }),
    );
    expect(unsigned.status).toBe(400);
    // A valid signature over other bytes than those sent.
    const genuine = signedCallbackRequest(SECRET, message);
    const tampered = new Request(genuine.url, { method: 'POST', headers: genuine.headers, body: JSON.stringify({ ...message, data: { ...message.data, status: 'failed', code: 'R01' } }) });
    expect((await t.app.handle(tampered)).status).toBe(400);
    expect((await get(payment.id)).status).toBe('processing');
    const dedupe = await t.database.system((tx) => tx.select().from(schema.processorCallbacks).where(eq(schema.processorCallbacks.eventId, message.id)));
    expect(dedupe).toHaveLength(0);
  });

  test('unknown processor: 404', async () => {
    const answer = await deliver(signedCallbackRequest(SECRET, callback('sim_x', {}), { url: 'http://localhost/v1/processors/nope/webhooks' }));
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('resource_missing');
  });

  test('a callback can never move a payment out of a final status', async () => {
    const created = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa)));
    const before = await get(created.body.id);
    const answer = await deliver(signedCallbackRequest(SECRET, callback(created.body.processor_reference, { status: 'failed', code: 'R01', message: 'Returned.' })));
    expect(answer).toEqual({ status: 200, body: { received: true, outcome: 'unchanged' } });
    expect(await get(created.body.id)).toEqual(before);
  });

  test('an unknown reference is acknowledged and changes nothing', async () => {
    const answer = await deliver(signedCallbackRequest(SECRET, callback('sim_unknown_reference', {})));
    expect(answer).toEqual({ status: 200, body: { received: true, outcome: 'unmatched' } });
  });
});
