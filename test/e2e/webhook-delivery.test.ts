import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { Webhook } from 'standardwebhooks';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, type TestTenant } from '../helpers/auth';
import { recordEvent } from '../../webhooks/test-support';
import { eventually, type Receiver, startReceiver, writeEvent } from '../../webhooks/test-support';
import { startWebhookWorker, type WebhookWorker, type WebhookWorkerOptions } from '../../webhooks/worker';

let t: TestApp;
let tenant: TestTenant;
const receivers: Receiver[] = [];
const workers: WebhookWorker[] = [];

beforeAll(async () => {
  t = await createTestApp();
  tenant = await createTenant(t);
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.stop()));
  for (const receiver of receivers.splice(0)) receiver.stop();
  // Endpoints of one test must not receive the next test's events.
  await t.database.system((tx) => tx.execute("update webhook_endpoints set status = 'disabled'" as never));
});
afterAll(() => t.close());

const FAST: Partial<WebhookWorkerOptions> = { pollIntervalMs: 50, leaseMs: 5000, timeoutMs: 2000, retry: { delaysMs: [100, 100, 100], jitter: 0 } };

function worker(options: Partial<WebhookWorkerOptions> = {}): WebhookWorker {
  const started = startWebhookWorker({ database: t.database, logger: t.logger, metrics: t.metrics }, { allowPrivate: true, ...FAST, ...options });
  workers.push(started);
  return started;
}

function receiver(): Receiver {
  const started = startReceiver();
  receivers.push(started);
  return started;
}

async function endpoint(url: string, enabledEvents: string[] = ['*']) {
  const response = await t.request('POST', '/v1/webhook_endpoints', { token: tenant.token, body: { url, enabled_events: enabledEvents } });
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string; secret: string };
}

async function deliveries(endpointId: string) {
  const response = await t.request('GET', `/v1/webhook_endpoints/${endpointId}/deliveries?limit=100`, { token: tenant.token });
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: Array<Record<string, any>> }).data;
}

describe('delivery', () => {
  test('each event arrives signed per Standard Webhooks and verifies with the standardwebhooks library', async () => {
    const hook = receiver();
    const { id, secret } = await endpoint(hook.url);
    worker();
    const first = await writeEvent(t.database, tenant.tenantId, 'payment.created');
    const second = await writeEvent(t.database, tenant.tenantId, 'payment.succeeded');
    const got = await hook.waitFor(2);
    const verifier = new Webhook(secret);
    const ids = got.map((request) => {
      const payload = verifier.verify(request.body, request.headers) as { id: string; object: string; type: string; data: { object: { id: string } } };
      expect(request.headers['webhook-id']).toBe(payload.id);
      expect(Math.abs(Number(request.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(30);
      expect(payload.object).toBe('event');
      return payload.id;
    });
    expect(ids.sort()).toEqual([first.id, second.id].sort());
    // A tampered body fails verification.
    const tampered = got[0]!.body.replace('"amount":2000', '"amount":1');
    expect(tampered).not.toBe(got[0]!.body);
    expect(() => verifier.verify(tampered, got[0]!.headers)).toThrow();
    const list = await eventually(async () => {
      const rows = await deliveries(id);
      return rows.length === 2 && rows.every((row) => row.status === 'succeeded') && rows;
    });
    expect(list[0]).toMatchObject({ object: 'webhook_delivery', attempt: 1, response_status: 200, error: null, next_attempt_at: null });
    expect(list[0]!.duration_ms).toBeGreaterThanOrEqual(0);
  });

  test('receiver down for the first attempts, then up: one more arrival after the retry, every failed attempt listed', async () => {
    const hook = receiver();
    hook.respond = (_request, n) => new Response('down', { status: n <= 2 ? 503 : 200 });
    const { id } = await endpoint(hook.url);
    const event = await writeEvent(t.database, tenant.tenantId);
    worker();
    await hook.waitFor(3);
    const list = await eventually(async () => {
      const rows = await deliveries(id);
      return rows.length === 3 && rows[0]!.status === 'succeeded' && rows;
    });
    expect(list.map((row) => [row.attempt, row.status, row.response_status])).toEqual([
      [3, 'succeeded', 200],
      [2, 'failed', 503],
      [1, 'failed', 503],
    ]);
    expect(list.every((row) => row.event === event.id)).toBe(true);
    await Bun.sleep(300);
    expect(hook.received.filter((request) => request.headers['webhook-id'] === event.id)).toHaveLength(3);
  });

  test('a connection refused is recorded in error and a scheduled retry is listed as pending', async () => {
    const { id } = await endpoint('http://127.0.0.1:9/unreachable');
    worker({ retry: { delaysMs: [60_000], jitter: 0 } });
    await writeEvent(t.database, tenant.tenantId);
    const list = await eventually(async () => {
      const rows = await deliveries(id);
      return rows.length === 2 && rows;
    });
    expect(list[0]).toMatchObject({ attempt: 2, status: 'pending', response_status: null });
    expect(Date.parse(list[0]!.next_attempt_at) - Date.now()).toBeGreaterThan(30_000);
    expect(list[1]).toMatchObject({ attempt: 1, status: 'failed', response_status: null });
    expect(list[1]!.error).toBeString();
  });

  test('rolled back state changes produce no delivery', async () => {
    const hook = receiver();
    const { id } = await endpoint(hook.url);
    await expect(
      t.database.tenant(tenant.tenantId, async (tx) => {
        await recordEvent(tx, { tenantId: tenant.tenantId, type: 'payment.succeeded', objectId: 'pay_rolled', object: { id: 'pay_rolled' } });
        throw new Error('the state change failed');
      }),
    ).rejects.toThrow('the state change failed');
    worker();
    await Bun.sleep(300);
    expect(hook.received).toHaveLength(0);
    expect(await deliveries(id)).toHaveLength(0);
  });

  test('disabled endpoints and filtered event types produce no delivery', async () => {
    const hook = receiver();
    const filtered = await endpoint(hook.url, ['refund.succeeded']);
    const disabled = await endpoint(hook.url, ['*']);
    const patched = await t.request('PATCH', `/v1/webhook_endpoints/${disabled.id}`, { token: tenant.token, body: { status: 'disabled' } });
    expect(patched.status).toBe(200);
    const wanted = await endpoint(hook.url, ['payment.failed']);
    worker();
    await writeEvent(t.database, tenant.tenantId, 'payment.succeeded');
    const failed = await writeEvent(t.database, tenant.tenantId, 'payment.failed');
    await hook.waitFor(1);
    await Bun.sleep(300);
    expect(hook.received.map((request) => request.headers['webhook-id'])).toEqual([failed.id]);
    expect(await deliveries(filtered.id)).toHaveLength(0);
    expect(await deliveries(disabled.id)).toHaveLength(0);
    expect(await deliveries(wanted.id)).toHaveLength(1);
  });

  test('410 Gone disables the endpoint at once, without retry', async () => {
    const hook = receiver();
    hook.respond = () => new Response('gone', { status: 410 });
    const { id } = await endpoint(hook.url);
    worker();
    await writeEvent(t.database, tenant.tenantId);
    await eventually(async () => {
      const response = await t.request('GET', `/v1/webhook_endpoints/${id}`, { token: tenant.token });
      return ((await response.json()) as { status: string }).status === 'disabled';
    });
    await Bun.sleep(300);
    expect(hook.received).toHaveLength(1);
    expect((await deliveries(id)).map((row) => [row.status, row.response_status])).toEqual([['failed', 410]]);
  });

  test('a 3xx is a failure and the redirect is not followed', async () => {
    const hook = receiver();
    const target = receiver();
    hook.respond = () => new Response(null, { status: 302, headers: { location: target.url } });
    const { id } = await endpoint(hook.url);
    worker({ retry: { delaysMs: [], jitter: 0 } });
    await writeEvent(t.database, tenant.tenantId);
    const list = await eventually(async () => {
      const rows = await deliveries(id);
      return rows.length === 1 && rows[0]!.status === 'failed' && rows;
    });
    expect(list[0]!.response_status).toBe(302);
    expect(target.received).toHaveLength(0);
  });

  test('Retry-After on 429 is honoured: the retry waits at least that long', async () => {
    const hook = receiver();
    hook.respond = (_request, n) => (n === 1 ? new Response('slow down', { status: 429, headers: { 'retry-after': '1' } }) : new Response('ok'));
    await endpoint(hook.url);
    worker();
    await writeEvent(t.database, tenant.tenantId);
    const got = await hook.waitFor(2, 15_000);
    expect(got[1]!.at - got[0]!.at).toBeGreaterThanOrEqual(900);
  });

  test('the response body is stored truncated to 4 KiB', async () => {
    const hook = receiver();
    hook.respond = () => new Response('x'.repeat(10_000), { status: 500 });
    const { id } = await endpoint(hook.url);
    worker({ retry: { delaysMs: [], jitter: 0 } });
    await writeEvent(t.database, tenant.tenantId);
    const list = await eventually(async () => {
      const rows = await deliveries(id);
      return rows[0]?.status === 'failed' && rows;
    });
    expect(list[0]!.response_body.length).toBe(4096);
  });

  test('an endpoint failing every attempt for longer than the limit is disabled', async () => {
    const hook = receiver();
    hook.respond = () => new Response('broken', { status: 500 });
    const { id } = await endpoint(hook.url);
    worker({ retry: { delaysMs: [150, 150, 150, 150, 150], jitter: 0, disableAfterFailingMs: 250 } });
    await writeEvent(t.database, tenant.tenantId);
    await eventually(async () => {
      const response = await t.request('GET', `/v1/webhook_endpoints/${id}`, { token: tenant.token });
      return ((await response.json()) as { status: string }).status === 'disabled';
    });
    const rows = await deliveries(id);
    expect(rows.every((row) => row.status === 'failed')).toBe(true);
    expect(rows.length).toBeLessThan(6);
  });

  test('after rotation two signatures are sent and both the old and the new secret verify', async () => {
    const hook = receiver();
    const { id, secret: oldSecret } = await endpoint(hook.url);
    const rotated = await t.request('POST', `/v1/webhook_endpoints/${id}/rotate_secret`, { token: tenant.token });
    expect(rotated.status).toBe(200);
    const { secret: newSecret } = (await rotated.json()) as { secret: string };
    expect(newSecret).not.toBe(oldSecret);
    worker();
    await writeEvent(t.database, tenant.tenantId);
    const [got] = await hook.waitFor(1);
    expect(got!.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(() => new Webhook(newSecret).verify(got!.body, got!.headers)).not.toThrow();
    expect(() => new Webhook(oldSecret).verify(got!.body, got!.headers)).not.toThrow();
  });

  test('redelivery queues a fresh delivery (202) that arrives with the same webhook-id', async () => {
    const hook = receiver();
    const { id } = await endpoint(hook.url);
    worker();
    const event = await writeEvent(t.database, tenant.tenantId);
    await hook.waitFor(1);
    const response = await t.request('POST', `/v1/events/${event.id}/redeliver`, { token: tenant.token, body: { endpoint: id } });
    expect(response.status).toBe(202);
    const body = (await response.json()) as { data: Array<{ status: string; attempt: number }> };
    expect(body.data).toHaveLength(1);
    expect(body.data[0]).toMatchObject({ status: 'pending', attempt: 1 });
    const got = await hook.waitFor(2);
    expect(got[1]!.headers['webhook-id']).toBe(event.id);
    expect((await t.request('POST', '/v1/events/evt_missing/redeliver', { token: tenant.token, body: {} })).status).toBe(404);
    const missingEndpoint = await t.request('POST', `/v1/events/${event.id}/redeliver`, { token: tenant.token, body: { endpoint: 'we_missing' } });
    expect(missingEndpoint.status).toBe(404);
    expect(((await missingEndpoint.json()) as { error: { param: string } }).error.param).toBe('endpoint');
  });

  test('a slow receiver cannot take every slot: the per-endpoint limit keeps others flowing', async () => {
    const slow = receiver();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    slow.respond = async () => {
      await gate;
      return new Response('ok');
    };
    const fast = receiver();
    await endpoint(slow.url, ['payment.created']);
    await endpoint(fast.url, ['payment.succeeded']);
    for (let i = 0; i < 6; i++) await writeEvent(t.database, tenant.tenantId, 'payment.created');
    const quick = await writeEvent(t.database, tenant.tenantId, 'payment.succeeded');
    worker({ concurrency: 4, perEndpoint: 2 });
    // Blocked behind the slow receiver it would never arrive before release(): any bound shows it.
    const [got] = await fast.waitFor(1, 15_000);
    expect(got!.headers['webhook-id']).toBe(quick.id);
    expect(slow.received.length).toBeLessThanOrEqual(2);
    release();
    await slow.waitFor(6);
  });

  test('metrics count attempts by outcome and report queue depth', async () => {
    const hook = receiver();
    await endpoint(hook.url);
    worker({ statsIntervalMs: 50 });
    await writeEvent(t.database, tenant.tenantId);
    await hook.waitFor(1);
    // The counter moves once the worker has the receiver's answer and has recorded it: wait for that, not a fixed time.
    const text = await eventually(async () => {
      const current = await t.metrics.registry.metrics();
      return /nimbus_webhook_deliveries_total\{outcome="succeeded"\} [1-9]/.test(current) && current;
    });
    expect(text).toMatch(/nimbus_webhook_deliveries_total\{outcome="succeeded"\} [1-9]/);
    expect(text).toContain('nimbus_webhook_queue_depth');
    expect(text).toContain('nimbus_webhook_oldest_pending_age_seconds');
  });
});

describe('logs', () => {
  test('attempt log lines carry ids and outcome but never the secret or the signature', async () => {
    const hook = receiver();
    const { secret } = await endpoint(hook.url);
    worker();
    await writeEvent(t.database, tenant.tenantId);
    const [got] = await hook.waitFor(1);
    await eventually(async () => t.logs.text().includes('webhook delivered'));
    const logs = t.logs.text();
    expect(logs).not.toContain(secret);
    expect(logs).not.toContain(secret.slice('whsec_'.length));
    expect(logs).not.toContain(got!.headers['webhook-signature']!.slice(3));
  });
});
