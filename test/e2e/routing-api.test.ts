import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Type } from '@sinclair/typebox';
import { eq } from 'drizzle-orm';
import { schema } from '../../db';
import { flushAudit } from '../../plugins/audit';
import { defineProcessor } from '../../processors/sdk/define.ts';
import { ProcessorError } from '../../processors/sdk/errors.ts';
import { createSimulator } from '../../processors/simulator/index.ts';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, platformAdmin, platformToken, type TestTenant } from '../helpers/auth';
import { call, card, CARDS, IBANS, paymentBody, sepa } from '../helpers/payments';

/** GET/PUT /v1/tenants/:id/routing (API.md "Tenants and clients") and payments following the rules. */

const calls = { backup: 0, failing: 0 };

/** A second real processor for the tests: approves cards in EUR and USD only. */
const backup = defineProcessor({
  id: 'backup',
  supports: { methods: ['card'], currencies: ['EUR', 'USD'] },
  credentials: Type.Object({}),
  async authorize(input) {
    calls.backup += 1;
    return { status: 'succeeded', reference: `bk_${input.idempotencyKey.replaceAll(':', '_')}` };
  },
  async capture(input) {
    return { status: 'succeeded', reference: input.reference, amountCaptured: input.amount };
  },
  async cancel(input) {
    return { status: 'canceled', reference: input.reference };
  },
  async refund(input) {
    return { status: 'succeeded', reference: `bk_re_${input.idempotencyKey.replaceAll(':', '_')}` };
  },
  async sync() {
    return { kind: 'payment' as const, status: 'not_found' as const };
  },
});

/** Always fails retryably; takes cards in EUR only. */
const failing = defineProcessor({
  id: 'failing',
  supports: { methods: ['card'], currencies: ['EUR'] },
  credentials: Type.Object({}),
  async authorize() {
    calls.failing += 1;
    throw new ProcessorError('Temporarily unavailable (test).', { retryable: true, code: 'try_again' });
  },
  async capture() {
    throw new ProcessorError('no', { retryable: false });
  },
  async cancel() {
    throw new ProcessorError('no', { retryable: false });
  },
  async refund() {
    throw new ProcessorError('no', { retryable: false });
  },
  async sync() {
    return { kind: 'payment' as const, status: 'not_found' as const };
  },
});

let t: TestApp;
let acme: TestTenant;
let globex: TestTenant;
let admin: string;
let support: string;

const routingOf = (tenantId: string) => `/v1/tenants/${tenantId}/routing`;
const put = (tenantId: string, body: unknown, token = admin) => call(t, 'PUT', routingOf(tenantId), token, body);
const get = (tenantId: string, token = admin) => call(t, 'GET', routingOf(tenantId), token);

beforeAll(async () => {
  t = await createTestApp({
    // Deployment order: the simulator first, so a payment served elsewhere was routed there.
    definition: { processors: [createSimulator({ settleMs: 50 }), backup, failing] },
    credentials: { backup: {}, failing: {}, simulator: { callbackSecret: 'test-callback-secret-0123456789' } },
  });
  acme = await createTenant(t, { name: 'Acme' });
  globex = await createTenant(t, { name: 'Globex' });
  admin = await platformToken(t, ['platform:admin']);
  support = await platformToken(t, ['platform:support']);
}, 30_000);
afterAll(() => t.close());

describe('GET and PUT', () => {
  test('a tenant never configured: rules [] and updated_at null', async () => {
    const answer = await get(globex.tenantId);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ object: 'routing', tenant: globex.tenantId, rules: [], updated_at: null });
  });

  test('PUT replaces the rules and answers the routing; GET reads it back', async () => {
    const rules = [
      { method: 'card', currency: 'USD', processors: ['backup'] },
      { method: 'card', processors: ['failing', 'simulator'] },
    ];
    const answer = await put(acme.tenantId, { rules });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      object: 'routing',
      tenant: acme.tenantId,
      rules: [
        { method: 'card', currency: 'USD', processors: ['backup'] },
        { method: 'card', currency: null, processors: ['failing', 'simulator'] },
      ],
    });
    expect(new Date(answer.body.updated_at).toISOString()).toBe(answer.body.updated_at);
    expect((await get(acme.tenantId)).body).toEqual(answer.body);

    // What GET answered can be PUT back as is (currency: null means any currency).
    const again = await put(acme.tenantId, { rules: answer.body.rules });
    expect(again.status).toBe(200);
    expect(again.body.rules).toEqual(answer.body.rules);
    expect(Date.parse(again.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(answer.body.updated_at));
  });

  test('rules: [] clears them and keeps when', async () => {
    await put(globex.tenantId, { rules: [{ method: 'card', processors: ['backup'] }] });
    const cleared = await put(globex.tenantId, { rules: [] });
    expect(cleared.status).toBe(200);
    expect(cleared.body).toMatchObject({ object: 'routing', tenant: globex.tenantId, rules: [] });
    expect(typeof cleared.body.updated_at).toBe('string');
    expect((await get(globex.tenantId)).body).toEqual(cleared.body);
  });

  test('an unknown tenant is 404 resource_missing on id', async () => {
    for (const answer of [await get('ten_doesnotexist'), await put('ten_doesnotexist', { rules: [] })]) {
      expect(answer.status).toBe(404);
      expect(answer.body.error).toMatchObject({ type: 'invalid_request_error', code: 'resource_missing', param: 'id' });
      expect(answer.body.error.request_id).toBeString();
    }
  });

  test('validation comes before existence: a bad body for an unknown tenant is 400', async () => {
    const answer = await put('ten_doesnotexist', { rules: [{ method: 'crypto', processors: ['simulator'] }] });
    expect([answer.status, answer.body.error.param]).toEqual([400, 'rules[0].method']);
  });
});

describe('validation: the exact code and param', () => {
  const many = (count: number, make: (i: number) => unknown) => Array.from({ length: count }, (_, i) => make(i));
  const cases: Array<[string, unknown, string, string]> = [
    ['unknown top-level field', { rules: [], priority: 1 }, 'parameter_unknown', 'priority'],
    ['rules missing', {}, 'parameter_missing', 'rules'],
    ['rules not an array', { rules: 'card' }, 'parameter_invalid', 'rules'],
    ['more than 50 rules', { rules: many(51, () => ({ method: 'card', processors: ['simulator'] })) }, 'parameter_invalid', 'rules'],
    ['a rule that is not an object', { rules: ['card'] }, 'parameter_invalid', 'rules[0]'],
    ['unknown field in a rule', { rules: [{ method: 'card', processors: ['simulator'], weight: 2 }] }, 'parameter_unknown', 'rules[0].weight'],
    ['method missing', { rules: [{ processors: ['simulator'] }] }, 'parameter_missing', 'rules[0].method'],
    ['method not a string', { rules: [{ method: 7, processors: ['simulator'] }] }, 'parameter_invalid', 'rules[0].method'],
    ['method not registered', { rules: [{ method: 'card', processors: ['simulator'] }, { method: 'crypto', processors: ['simulator'] }] }, 'parameter_invalid', 'rules[1].method'],
    ['currency not a string', { rules: [{ method: 'card', currency: 978, processors: ['simulator'] }] }, 'parameter_invalid', 'rules[0].currency'],
    ['currency unknown', { rules: [{ method: 'card', currency: 'XYZ', processors: ['simulator'] }] }, 'currency_unsupported', 'rules[0].currency'],
    ['currency lowercase', { rules: [{ method: 'card', currency: 'eur', processors: ['simulator'] }] }, 'currency_unsupported', 'rules[0].currency'],
    ['processors missing', { rules: [{ method: 'card' }] }, 'parameter_missing', 'rules[0].processors'],
    ['processors empty', { rules: [{ method: 'card', processors: [] }] }, 'parameter_invalid', 'rules[0].processors'],
    ['more than 10 processors', { rules: [{ method: 'card', processors: many(11, (i) => `p${i}`) }] }, 'parameter_invalid', 'rules[0].processors'],
    ['a processor that is not a string', { rules: [{ method: 'card', processors: ['simulator', 5] }] }, 'parameter_invalid', 'rules[0].processors[1]'],
    ['a processor that is not registered', { rules: [{ method: 'card', processors: ['simulator', 'stripe'] }] }, 'parameter_invalid', 'rules[0].processors[1]'],
    ['a processor named twice', { rules: [{ method: 'card', processors: ['backup', 'simulator', 'backup'] }] }, 'parameter_invalid', 'rules[0].processors[2]'],
    ['a processor without that currency', { rules: [{ method: 'card', currency: 'GBP', processors: ['simulator', 'backup'] }] }, 'parameter_invalid', 'rules[0].processors[1]'],
    ['a processor without that method', { rules: [{ method: 'bank_transfer', processors: ['simulator', 'failing'] }] }, 'parameter_invalid', 'rules[0].processors[1]'],
    ['a rule shadowed by an earlier one without currency', { rules: [{ method: 'card', processors: ['simulator'] }, { method: 'card', currency: 'EUR', processors: ['backup'] }] }, 'parameter_invalid', 'rules[1]'],
    ['a rule repeating method and currency', { rules: [{ method: 'card', currency: 'EUR', processors: ['simulator'] }, { method: 'card', currency: 'EUR', processors: ['backup'] }] }, 'parameter_invalid', 'rules[1]'],
  ];

  for (const [name, body, code, param] of cases) {
    test(`${name}: 400 ${code} on ${param}`, async () => {
      const answer = await put(acme.tenantId, body);
      expect(answer.status).toBe(400);
      expect(answer.body.error).toMatchObject({ type: 'invalid_request_error', code, param });
      expect(answer.body.error.message).toBeString();
    });
  }

  test('a body that is not JSON is 400 body_not_json', async () => {
    const response = await t.request('PUT', routingOf(acme.tenantId), { token: admin, body: '{"rules": [', headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('body_not_json');
  });

  test('a rule for another currency after a currency-specific one is accepted (the fallback)', async () => {
    const answer = await put(globex.tenantId, {
      rules: [
        { method: 'card', currency: 'EUR', processors: ['backup'] },
        { method: 'card', processors: ['simulator'] },
        { method: 'bank_transfer', currency: 'EUR', processors: ['simulator'] },
      ],
    });
    expect(answer.status).toBe(200);
    await put(globex.tenantId, { rules: [] });
  });

  test('a refused PUT changes nothing', async () => {
    const before = (await get(acme.tenantId)).body;
    expect((await put(acme.tenantId, { rules: [{ method: 'card', processors: ['stripe'] }] })).status).toBe(400);
    expect((await get(acme.tenantId)).body).toEqual(before);
  });
});

describe('authentication and scopes', () => {
  test('no token: 401', async () => {
    for (const method of ['GET', 'PUT']) {
      const response = await t.request(method, routingOf(acme.tenantId), method === 'PUT' ? { body: { rules: [] } } : {});
      expect(response.status).toBe(401);
    }
    // 401 before 400.
    expect((await t.request('PUT', routingOf(acme.tenantId), { body: { rules: 'nonsense' } })).status).toBe(401);
  });

  test('a tenant token (even with every tenant scope) is 403 on its own routing', async () => {
    expect((await get(acme.tenantId, acme.token)).body.error.code).toBe('scope_missing');
    const answer = await put(acme.tenantId, { rules: [] }, acme.token);
    expect([answer.status, answer.body.error.type, answer.body.error.code]).toEqual([403, 'permission_error', 'scope_missing']);
  });

  test('platform:support reads (no Nimbus-Tenant needed) but cannot write', async () => {
    const read = await get(acme.tenantId, support);
    expect(read.status).toBe(200);
    expect(read.body.object).toBe('routing');
    const write = await put(acme.tenantId, { rules: [] }, support);
    expect([write.status, write.body.error.code]).toEqual([403, 'scope_missing']);
    // 403 before 400.
    expect((await put(acme.tenantId, { rules: 'nonsense' }, support)).status).toBe(403);
  });

  test('platform:admin reads and writes', async () => {
    expect((await get(acme.tenantId, admin)).status).toBe(200);
    const current = (await get(acme.tenantId, admin)).body;
    expect((await put(acme.tenantId, { rules: current.rules }, admin)).status).toBe(200);
  });
});

describe('audit', () => {
  test('a PUT is recorded on the tenant as tenant.routing.update, readable by its admins', async () => {
    const answer = await put(globex.tenantId, { rules: [{ method: 'card', processors: ['simulator'] }] });
    expect(answer.status).toBe(200);
    const events = await call(t, 'GET', '/v1/audit_events?limit=100', globex.token);
    const event = events.body.data.find((item: { request_id: string }) => item.request_id === answer.headers.get('x-request-id'));
    expect(event).toMatchObject({
      object: 'audit_event',
      action: 'tenant.routing.update',
      tenant: globex.tenantId,
      resource: globex.tenantId,
      client: (await platformAdmin(t)).clientId,
      outcome: 'succeeded',
      status: 200,
    });
    await put(globex.tenantId, { rules: [] });
  });

  test('a refused PUT is recorded too, as failed', async () => {
    const answer = await put(globex.tenantId, { rules: [{ method: 'crypto', processors: ['simulator'] }] });
    expect(answer.status).toBe(400);
    const requestId = answer.headers.get('x-request-id')!;
    await flushAudit(t.database);
    const rows = await t.database.system((tx) => tx.select().from(schema.auditEvents).where(eq(schema.auditEvents.requestId, requestId)));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ outcome: 'failed', status: '400', clientId: (await platformAdmin(t)).clientId });
  });
});

describe('payments follow the rules', () => {
  async function attemptsOf(paymentId: string) {
    const [row] = await t.database.system((tx) => tx.select().from(schema.payments).where(eq(schema.payments.id, paymentId)));
    return row!.processorAttempts.map((attempt) => [attempt.processor, attempt.outcome]);
  }

  beforeAll(async () => {
    const answer = await put(acme.tenantId, {
      rules: [
        { method: 'card', currency: 'USD', processors: ['backup'] },
        { method: 'card', processors: ['failing', 'simulator'] },
      ],
    });
    expect(answer.status).toBe(200);
  });

  test('the first matching rule with a currency picks its processor', async () => {
    calls.backup = 0;
    const created = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { currency: 'USD' }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'succeeded', processor: 'backup' });
    expect(calls.backup).toBe(1);
  });

  test('a currency-less rule gives the order; failover stays within the rule', async () => {
    calls.failing = 0;
    const created = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { currency: 'EUR' }));
    expect(created.body).toMatchObject({ status: 'succeeded', processor: 'simulator' });
    expect(calls.failing).toBeGreaterThanOrEqual(1);
    expect(await attemptsOf(created.body.id)).toEqual([
      ['failing', 'error'],
      ['simulator', 'succeeded'],
    ]);
  });

  test("processors of the rule that do not take the currency are skipped", async () => {
    calls.failing = 0;
    const created = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { currency: 'GBP' }));
    expect(created.body).toMatchObject({ status: 'succeeded', processor: 'simulator' });
    expect(calls.failing).toBe(0);
  });

  test('no matching rule: the deployment order', async () => {
    const created = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(sepa(IBANS.settles), { currency: 'EUR' }));
    expect(created.status).toBe(201);
    expect(created.body.processor).toBe('simulator');
  });

  test('a forced processor still wins over the rules', async () => {
    calls.backup = 0;
    const created = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { currency: 'EUR', processor: 'backup' }));
    expect(created.body).toMatchObject({ status: 'succeeded', processor: 'backup' });
    expect(calls.backup).toBe(1);
  });

  test('processors a rule does not name are not tried', async () => {
    expect((await put(acme.tenantId, { rules: [{ method: 'card', currency: 'EUR', processors: ['failing'] }] })).status).toBe(200);
    const created = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { currency: 'EUR' }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'failed', processor: 'failing', failure: { code: 'processing_error' } });
    expect(await attemptsOf(created.body.id)).toEqual([['failing', 'error']]);
  });

  test('a currency-less rule whose processors take none of the currency leaves the payment to the deployment order', async () => {
    expect((await put(acme.tenantId, { rules: [{ method: 'card', processors: ['backup'] }] })).status).toBe(200);
    calls.backup = 0;
    const created = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { currency: 'JPY' }));
    expect(created.body).toMatchObject({ status: 'succeeded', processor: 'simulator' });
    expect(calls.backup).toBe(0);
  });

  test('a payment confirmed later follows the rules in force at confirm', async () => {
    expect((await put(acme.tenantId, { rules: [] })).status).toBe(200);
    const created = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { currency: 'EUR', confirm: false }));
    expect(created.body.status).toBe('requires_confirmation');
    expect((await put(acme.tenantId, { rules: [{ method: 'card', processors: ['backup'] }] })).status).toBe(200);
    const confirmed = await call(t, 'POST', `/v1/payments/${created.body.id}/confirm`, acme.token);
    expect(confirmed.body).toMatchObject({ status: 'succeeded', processor: 'backup' });
  });

  test("one tenant's rules do not route another tenant's payments", async () => {
    expect((await put(acme.tenantId, { rules: [{ method: 'card', processors: ['backup'] }] })).status).toBe(200);
    const created = await call(t, 'POST', '/v1/payments', globex.token, paymentBody(card(CARDS.visa), { currency: 'EUR' }));
    expect(created.body).toMatchObject({ status: 'succeeded', processor: 'simulator' });
  });

  test('cleared rules: the deployment order again', async () => {
    expect((await put(acme.tenantId, { rules: [] })).status).toBe(200);
    const created = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { currency: 'USD' }));
    expect(created.body).toMatchObject({ status: 'succeeded', processor: 'simulator' });
  });
});
