import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, platformToken, type TestTenant } from '../helpers/auth';
import { CARDS, call, card, eventually, type Json, paymentBody } from '../helpers/payments';
import { type Receiver, startReceiver } from '../../webhooks/test-support';
import { startWebhookWorker, type WebhookWorker } from '../../webhooks/worker';

/**
 * The /v1 routes the support console is built on, used without the console: a payment's
 * processor attempts, deliveries by event, endpoint health, the platform admin's
 * redelivery, payment and audit search across tenants, and the health summary. Their
 * scope rules are API.md's: support reads (any tenant, Nimbus-Tenant), never writes;
 * admin manages and redelivers, reads no tenant data.
 */

let t: TestApp;
let acme: TestTenant;
let other: TestTenant;
let support: string;
let admin: string;
let adminOnly: string;
let receiver: Receiver;
let worker: WebhookWorker;
let declined: Json;
let approved: Json;

beforeAll(async () => {
  t = await createTestApp();
  acme = await createTenant(t, { name: 'Acme' });
  other = await createTenant(t, { name: 'Other' });
  support = await platformToken(t, ['platform:support']);
  admin = await platformToken(t);
  adminOnly = await platformToken(t, ['platform:admin']);
  receiver = startReceiver();
  receiver.respond = () => new Response('receiver is down for maintenance', { status: 503 });
  const endpoint = await call(t, 'POST', '/v1/webhook_endpoints', acme.token, { url: receiver.url, enabled_events: ['payment.failed'] });
  expect(endpoint.status).toBe(201);
  worker = startWebhookWorker(
    { database: t.database, logger: t.logger, metrics: t.metrics },
    { allowPrivate: true, pollIntervalMs: 50, leaseMs: 30_000, timeoutMs: 15_000, retry: { delaysMs: [3_600_000], jitter: 0 } },
  );
  declined = (await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.insufficientFunds), { amount: 4200, metadata: { order_id: 'A-1001' } }))).body;
  approved = (await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { amount: 1500, metadata: { order_id: 'A-1002' } }))).body;
  await call(t, 'POST', '/v1/payments', other.token, paymentBody(card(CARDS.genericDecline), { amount: 4200 }));
  expect(declined.status).toBe('failed');
  expect(approved.status).toBe('succeeded');
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  receiver?.stop();
  await t?.close();
});

describe('GET /v1/payments/:id/attempts', () => {
  test("the declined authorization, with its decline code and latency; support reads it with Nimbus-Tenant", async () => {
    const own = await call(t, 'GET', `/v1/payments/${declined.id}/attempts`, acme.token);
    expect(own.status).toBe(200);
    expect(own.body.data).toHaveLength(1);
    expect(own.body.data[0]).toMatchObject({
      object: 'payment_attempt',
      payment: declined.id,
      refund: null,
      processor: 'simulator',
      operation: 'authorize',
      kind: 'result',
      outcome: 'declined',
      code: 'insufficient_funds',
      attempts: 1,
    });
    expect(own.body.data[0].duration_ms).toBeGreaterThanOrEqual(0);
    expect(own.text).not.toContain('9995');
    const viaSupport = await call(t, 'GET', `/v1/payments/${declined.id}/attempts`, support, undefined, { 'Nimbus-Tenant': acme.tenantId });
    expect(viaSupport.body).toEqual(own.body);
  });

  test('a refund adds its own attempt; another tenant gets 404, an admin-only token 403', async () => {
    const refund = await call(t, 'POST', '/v1/refunds', acme.token, { payment: approved.id, amount: 500 });
    expect(refund.status).toBe(201);
    const list = await call(t, 'GET', `/v1/payments/${approved.id}/attempts`, acme.token);
    expect(list.body.data.map((row: Json) => `${row.operation}:${row.outcome}:${row.refund ?? '-'}`)).toEqual([`refund:succeeded:${refund.body.id}`, 'authorize:succeeded:-']);
    expect((await call(t, 'GET', `/v1/payments/${approved.id}/attempts`, other.token)).status).toBe(404);
    const forbidden = await call(t, 'GET', `/v1/payments/${approved.id}/attempts`, adminOnly, undefined, { 'Nimbus-Tenant': acme.tenantId });
    expect(forbidden.status).toBe(403);
  });
});

describe('GET /v1/support/payments', () => {
  const search = (query: string, token = support) => call(t, 'GET', `/v1/support/payments${query}`, token);

  test('filters combine across tenants, and each payment names its tenant', async () => {
    const failed = await search('?status=failed&method=card&processor=simulator&amount_gte=4000&amount_lte=5000');
    expect(failed.status).toBe(200);
    expect(failed.body.data.map((row: Json) => row.tenant).sort()).toEqual([acme.tenantId, other.tenantId].sort());
    const mine = await search(`?status=failed&tenant=${acme.tenantId}`);
    expect(mine.body.data.map((row: Json) => row.id)).toEqual([declined.id]);
    expect(mine.body.data[0]).toMatchObject({ tenant: acme.tenantId, failure: { code: 'card_declined', decline_code: 'insufficient_funds' } });
    expect(mine.body.data[0].payment_method.card).toMatchObject({ brand: 'visa', last4: '9995' });
    expect((await search('?status=succeeded&amount_gte=4000')).body.data.map((row: Json) => row.id)).not.toContain(approved.id);
  });

  test('q finds by id, by metadata value, by key=value and by processor reference', async () => {
    expect((await search(`?q=${declined.id}`)).body.data.map((row: Json) => row.id)).toEqual([declined.id]);
    expect((await search('?q=A-1002')).body.data.map((row: Json) => row.id)).toEqual([approved.id]);
    expect((await search('?q=order_id%3DA-1001')).body.data.map((row: Json) => row.id)).toEqual([declined.id]);
    expect((await search('?q=other_key%3DA-1001')).body.data).toEqual([]);
    expect((await search(`?q=${approved.processor_reference}`)).body.data.map((row: Json) => row.id)).toEqual([approved.id]);
  });

  test('cursor paging walks every payment once, newest first', async () => {
    const first = await search('?limit=2');
    expect(first.body.has_more).toBe(true);
    const second = await search(`?limit=2&starting_after=${first.body.data[1].id}`);
    const ids = [...first.body.data, ...second.body.data].map((row: Json) => row.id);
    expect(new Set(ids).size).toBe(ids.length);
    const back = await search(`?limit=2&ending_before=${second.body.data[0].id}`);
    expect(back.body.data.map((row: Json) => row.id)).toEqual(first.body.data.map((row: Json) => row.id));
  });

  test('support only: tenant tokens and admin-only tokens get 403, bad filters 400', async () => {
    for (const token of [acme.token, adminOnly]) {
      const refused = await search('', token);
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('scope_missing');
    }
    const bad = await search('?status=lost');
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('status');
    expect((await search('?colour=red')).status).toBe(400);
  });
});

describe('webhooks: deliveries by event, endpoint health, redelivery by a platform admin', () => {
  let endpointId: string;
  let eventId: string;

  beforeAll(async () => {
    const endpoints = await call(t, 'GET', '/v1/webhook_endpoints', acme.token);
    endpointId = endpoints.body.data[0].id;
    const events = await call(t, 'GET', `/v1/events?object_id=${declined.id}&type=payment.failed`, acme.token);
    eventId = events.body.data[0].id;
    await eventually(async () => {
      const deliveries = await call(t, 'GET', `/v1/events/${eventId}/deliveries`, acme.token);
      return deliveries.body.data.some((row: Json) => row.status === 'failed') || undefined;
    });
  });

  test("an event's deliveries carry the status code and the first bytes of the answer", async () => {
    const list = await call(t, 'GET', `/v1/events/${eventId}/deliveries`, support, undefined, { 'Nimbus-Tenant': acme.tenantId });
    expect(list.status).toBe(200);
    const failed = list.body.data.find((row: Json) => row.status === 'failed');
    expect(failed).toMatchObject({ endpoint: endpointId, event: eventId, event_type: 'payment.failed', attempt: 1, response_status: 503, response_body: 'receiver is down for maintenance' });
    expect((await call(t, 'GET', `/v1/events/${eventId}/deliveries`, other.token)).status).toBe(404);
  });

  test("an endpoint's health: failures, the retry waiting, failing since", async () => {
    const health = await call(t, 'GET', `/v1/webhook_endpoints/${endpointId}/health`, support, undefined, { 'Nimbus-Tenant': acme.tenantId });
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ object: 'webhook_endpoint_health', endpoint: endpointId, status: 'enabled', disabled_reason: null, succeeded: 0, failed: 1, success_ratio: 0, pending: 1 });
    expect(health.body.failing_since).not.toBeNull();
    expect(health.body.oldest_pending_since).not.toBeNull();
    expect((await call(t, 'GET', `/v1/webhook_endpoints/${endpointId}/health`, other.token)).status).toBe(404);
  });

  test('support cannot redeliver (403 on both routes); an admin can, naming the tenant, and it is audited', async () => {
    const body = { endpoint: endpointId };
    const tenantHeader = { 'Nimbus-Tenant': acme.tenantId };
    for (const [path, token] of [
      [`/v1/support/events/${eventId}/redeliver`, support],
      [`/v1/events/${eventId}/redeliver`, support],
      [`/v1/support/events/${eventId}/redeliver`, acme.token],
    ] as const) {
      const refused = await call(t, 'POST', path, token, body, tenantHeader);
      expect({ path, status: refused.status, code: refused.body.error.code }).toEqual({ path, status: 403, code: 'scope_missing' });
    }
    const missing = await call(t, 'POST', `/v1/support/events/${eventId}/redeliver`, admin, body);
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('parameter_missing');
    expect(missing.body.error.param.toLowerCase()).toBe('nimbus-tenant'); // header names are case-insensitive
    const malformed = await call(t, 'POST', `/v1/support/events/${eventId}/redeliver`, admin, body, { 'Nimbus-Tenant': 'acme' });
    expect(malformed.status).toBe(400);
    const unknown = await call(t, 'POST', `/v1/support/events/${eventId}/redeliver`, admin, body, { 'Nimbus-Tenant': 'ten_DoesNotExist000' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.param).toBe('Nimbus-Tenant');
    const elsewhere = await call(t, 'POST', `/v1/support/events/${eventId}/redeliver`, admin, body, { 'Nimbus-Tenant': other.tenantId });
    expect(elsewhere.status).toBe(404);

    receiver.respond = () => new Response('thanks');
    const queued = await call(t, 'POST', `/v1/support/events/${eventId}/redeliver`, admin, body, tenantHeader);
    expect(queued.status).toBe(202);
    expect(queued.body.data).toHaveLength(1);
    expect(queued.body.data[0]).toMatchObject({ endpoint: endpointId, event: eventId, attempt: 1, status: 'pending' });
    const delivered = await eventually(async () => {
      const list = await call(t, 'GET', `/v1/events/${eventId}/deliveries`, acme.token);
      const row = list.body.data.find((candidate: Json) => candidate.id === queued.body.data[0].id);
      return row?.status === 'succeeded' ? row : undefined;
    });
    expect(delivered).toMatchObject({ response_status: 200, response_body: 'thanks' });

    const audit = await call(t, 'GET', `/v1/support/audit_events?tenant=${acme.tenantId}&action=event.redeliver`, support);
    expect(audit.status).toBe(200);
    const clients = audit.body.data.map((row: Json) => `${row.client}:${row.outcome}:${row.resource}`);
    const adminClient = audit.body.data.find((row: Json) => row.outcome === 'succeeded')?.client;
    expect(adminClient).toMatch(/^cli_/);
    expect(clients).toContain(`${adminClient}:succeeded:${eventId}`);
    // The tenant's own audit trail shows it too.
    const own = await call(t, 'GET', '/v1/audit_events?limit=100', acme.token);
    expect(own.body.data.some((row: Json) => row.action === 'event.redeliver' && row.client === adminClient)).toBe(true);
  });
});

describe('GET /v1/support/audit_events', () => {
  test('by tenant and by actor', async () => {
    const byTenant = await call(t, 'GET', `/v1/support/audit_events?tenant=${other.tenantId}&limit=100`, support);
    expect(byTenant.status).toBe(200);
    expect(byTenant.body.data.length).toBeGreaterThan(0);
    expect(byTenant.body.data.every((row: Json) => row.tenant === other.tenantId)).toBe(true);
    const actor = byTenant.body.data.find((row: Json) => row.action === 'payment.create').client;
    const byActor = await call(t, 'GET', `/v1/support/audit_events?client=${actor}&limit=100`, support);
    expect(byActor.body.data.length).toBeGreaterThan(0);
    expect(byActor.body.data.every((row: Json) => row.client === actor)).toBe(true);
    expect((await call(t, 'GET', '/v1/support/audit_events', acme.token)).status).toBe(403);
    expect((await call(t, 'GET', '/v1/support/audit_events?outcome=maybe', support)).status).toBe(400);
  });
});

describe('GET /v1/support/health', () => {
  test('readiness, queue, backlog, processors and the last hour; support and admin, never a tenant', async () => {
    const health = await call(t, 'GET', '/v1/support/health', support);
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ object: 'support_health', environment: 'development', readiness: { status: 'ok', checks: { database: 'ok', migrations: 'current' } } });
    const simulator = health.body.processors.find((row: Json) => row.id === 'simulator');
    expect(simulator).toMatchObject({ circuit: 'closed', errors: 0 });
    expect(simulator.calls).toBeGreaterThanOrEqual(4);
    expect(health.body.series.step_seconds).toBe(60);
    expect(health.body.series.points).toHaveLength(60);
    const total = health.body.series.points.reduce((sum: number, point: Json) => sum + point.processor_calls, 0);
    expect(total).toBe(simulator.calls);
    expect(health.body.webhooks.queue_depth).toBeGreaterThanOrEqual(1); // the first chain's retry, an hour away
    expect((await call(t, 'GET', '/v1/support/health', adminOnly)).status).toBe(200);
    expect((await call(t, 'GET', '/v1/support/health', acme.token)).status).toBe(403);
  });
});
