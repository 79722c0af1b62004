import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, platformToken, type TestTenant } from '../helpers/auth';
import { call, card, CARDS, paymentBody, type Json } from '../helpers/payments';

/** GET /v1/events and /v1/events/:id, and the shared list semantics (API.md "Lists"). */

let t: TestApp;
let acme: TestTenant;
let ids: string[] = [];
beforeAll(async () => {
  t = await createTestApp();
  acme = await createTenant(t);
  // Five payments: 10 events, created then succeeded each.
  for (let index = 0; index < 5; index++) {
    const created = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { amount: 100 + index }));
    ids.push(created.body.id);
  }
  ids = ids.reverse(); // newest first
}, 30_000);
afterAll(() => t.close());

const list = (query = '') => call(t, 'GET', `/v1/events${query}`, acme.token);

describe('events', () => {
  test('newest first with the object as of each change', async () => {
    const page = await list('?limit=100');
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ object: 'list', has_more: false });
    expect(page.body.data).toHaveLength(10);
    const [latest, created] = page.body.data as Json[];
    expect(latest).toMatchObject({ object: 'event', type: 'payment.succeeded', data: { object: { id: ids[0], status: 'succeeded', object: 'payment' } } });
    expect(created).toMatchObject({ type: 'payment.created', data: { object: { id: ids[0], status: 'requires_confirmation' } } });
    expect(latest.id).toMatch(/^evt_/);
    expect(new Date(latest.created_at).toISOString()).toBe(latest.created_at);
    const one = await call(t, 'GET', `/v1/events/${latest.id}`, acme.token);
    expect(one.body).toEqual(latest);
  });

  test('type filter, exact or prefix wildcard; unknown types are 400', async () => {
    const succeeded = await list('?type=payment.succeeded&limit=100');
    expect(succeeded.body.data.map((event: Json) => event.data.object.id)).toEqual(ids);
    expect((await list('?type=payment.*&limit=100')).body.data).toHaveLength(10);
    expect((await list('?type=refund.created')).body.data).toHaveLength(0);
    const bad = await list('?type=payment.exploded');
    expect([bad.status, bad.body.error.code, bad.body.error.param]).toEqual([400, 'parameter_invalid', 'type']);
  });

  test('scopes, tenancy and support access', async () => {
    const page = await list('?limit=1');
    const eventId = page.body.data[0].id;
    const paymentsOnly = await acme.tokenWith(['payments:read', 'payments:write']);
    expect((await call(t, 'GET', '/v1/events', paymentsOnly)).status).toBe(403);
    const other = await createTenant(t, { name: 'Other' });
    expect((await call(t, 'GET', `/v1/events/${eventId}`, other.token)).status).toBe(404);
    expect((await call(t, 'GET', '/v1/events', other.token)).body.data).toHaveLength(0);
    const support = await platformToken(t, ['platform:support']);
    const read = await call(t, 'GET', `/v1/events/${eventId}`, support, undefined, { 'Nimbus-Tenant': acme.tenantId });
    expect(read.status).toBe(200);
  });
});

describe('list semantics (shared pagination)', () => {
  const payments = (query: string) => call(t, 'GET', `/v1/payments${query}`, acme.token);

  test('limit, has_more, starting_after and ending_before walk the same order', async () => {
    const first = await payments('?limit=2');
    expect(first.body.data.map((p: Json) => p.id)).toEqual(ids.slice(0, 2));
    expect(first.body.has_more).toBe(true);
    const second = await payments(`?limit=2&starting_after=${ids[1]}`);
    expect(second.body.data.map((p: Json) => p.id)).toEqual(ids.slice(2, 4));
    expect(second.body.has_more).toBe(true);
    const last = await payments(`?limit=2&starting_after=${ids[3]}`);
    expect(last.body.data.map((p: Json) => p.id)).toEqual(ids.slice(4));
    expect(last.body.has_more).toBe(false);
    const back = await payments(`?limit=2&ending_before=${ids[4]}`);
    expect(back.body.data.map((p: Json) => p.id)).toEqual(ids.slice(2, 4));
    expect(back.body.has_more).toBe(true);
    const top = await payments(`?limit=2&ending_before=${ids[1]}`);
    expect(top.body.data.map((p: Json) => p.id)).toEqual(ids.slice(0, 1));
    expect(top.body.has_more).toBe(false);
    expect((await payments('')).body.data).toHaveLength(5);
  });

  test('status and created filters (inclusive)', async () => {
    const all = (await payments('?limit=100')).body.data as Json[];
    const oldest = all[all.length - 1]!;
    const gte = await payments(`?created_gte=${encodeURIComponent(all[1].created_at)}`);
    expect(gte.body.data.map((p: Json) => p.id)).toEqual(all.filter((p) => p.created_at >= all[1].created_at).map((p) => p.id));
    const lte = await payments(`?created_lte=${encodeURIComponent(oldest.created_at)}`);
    expect(lte.body.data.map((p: Json) => p.id)).toContain(oldest.id);
    expect((await payments('?status=succeeded&limit=100')).body.data).toHaveLength(5);
    expect((await payments('?status=failed')).body.data).toHaveLength(0);
  });

  test('bad parameters are 400 with the parameter named; unknown cursors 404', async () => {
    const cases: Array<[string, string, string]> = [
      ['?limit=0', 'parameter_invalid', 'limit'],
      ['?limit=101', 'parameter_invalid', 'limit'],
      ['?limit=ten', 'parameter_invalid', 'limit'],
      [`?starting_after=${ids[0]}&ending_before=${ids[1]}`, 'parameter_invalid', 'ending_before'],
      ['?created_gte=yesterday', 'parameter_invalid', 'created_gte'],
      ['?status=lost', 'parameter_invalid', 'status'],
      ['?colour=red', 'parameter_unknown', 'colour'],
    ];
    for (const [query, code, param] of cases) {
      const answer = await payments(query);
      expect([query, answer.status, answer.body.error.code, answer.body.error.param]).toEqual([query, 400, code, param]);
    }
    const missing = await payments('?starting_after=pay_nope');
    expect([missing.status, missing.body.error.code, missing.body.error.param]).toEqual([404, 'resource_missing', 'starting_after']);
  });
});
