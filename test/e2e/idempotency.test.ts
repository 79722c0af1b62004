import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Type } from '@sinclair/typebox';
import { and, eq } from 'drizzle-orm';
import { schema } from '../../db';
import { authGuard, tenantOf } from '../../plugins/auth';
import { idempotencySecrets } from '../../plugins/idempotency/sealing';
import { claimKey, purgeExpiredKeys, requestFingerprint } from '../../plugins/idempotency/store';
import { fingerprintKeyFor } from '../../plugins/payments/service/vault';
import { createApp, createTestApp, type TestApp } from '../helpers/app';
import { createTenant, platformToken, type TestTenant } from '../helpers/auth';
import { call, card, CARDS, paymentBody } from '../helpers/payments';

/** API.md "Idempotency" on the payment routes, a platform route and a throwaway route. */

let t: TestApp;
let acme: TestTenant;
beforeAll(async () => {
  t = await createTestApp();
  acme = await createTenant(t);
}, 30_000);
afterAll(() => t.close());

const withKey = (key: string) => ({ 'Idempotency-Key': key });
const paymentCount = async (token: string) => (await call(t, 'GET', '/v1/payments?limit=100', token)).body.data.length as number;

describe('replays', () => {
  test('same key, same request: the first response byte for byte, with Idempotent-Replayed', async () => {
    const body = paymentBody(card(CARDS.visa), { metadata: { a: '1', b: '2' } });
    const first = await call(t, 'POST', '/v1/payments', acme.token, body, withKey('replay-1'));
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const before = await paymentCount(acme.token);
    const second = await call(t, 'POST', '/v1/payments', acme.token, body, withKey('replay-1'));
    expect(second.status).toBe(201);
    expect(second.text).toBe(first.text);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.headers.get('content-type')).toContain('application/json');
    expect(second.headers.get('x-request-id')).toBeTruthy();
    // The same JSON with keys in another order is the same request.
    const reordered = { metadata: { b: '2', a: '1' }, payment_method: body.payment_method, currency: 'EUR', amount: 2000 };
    const third = await call(t, 'POST', '/v1/payments', acme.token, reordered, withKey('replay-1'));
    expect(third.text).toBe(first.text);
    expect(await paymentCount(acme.token)).toBe(before);
  });

  // Every write route's success, replayed: the stored status, not the status of what a
  // re-run would have hit (a capture replayed finds the payment captured already).
  test.each([
    ['confirm', async () => [`/v1/payments/${(await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { confirm: false }))).body.id}/confirm`, undefined, 200]],
    ['capture', async () => [`/v1/payments/${(await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { capture_method: 'manual' }))).body.id}/capture`, {}, 200]],
    ['cancel an authorization', async () => [`/v1/payments/${(await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { capture_method: 'manual' }))).body.id}/cancel`, {}, 200]],
    ['cancel before confirmation', async () => [`/v1/payments/${(await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { confirm: false }))).body.id}/cancel`, {}, 200]],
    ['refund', async () => ['/v1/refunds', { payment: (await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa)))).body.id, amount: 2000 }, 201]],
  ] as Array<[string, () => Promise<[string, unknown, number]>]>)('%s: the replay is the first answer, status included', async (name, setup) => {
    const [path, body, status] = await setup();
    const key = `replay-${name.replaceAll(' ', '-')}`;
    const first = await call(t, 'POST', path, acme.token, body, withKey(key));
    expect(first.status).toBe(status);
    const second = await call(t, 'POST', path, acme.token, body, withKey(key));
    expect([second.status, second.text, second.headers.get('idempotent-replayed')]).toEqual([status, first.text, 'true']);
  });

  test('a 402 from confirm is stored and replayed too, and the decline happens once', async () => {
    const created = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.insufficientFunds), { confirm: false }));
    const path = `/v1/payments/${created.body.id}/confirm`;
    const first = await call(t, 'POST', path, acme.token, undefined, withKey('decline-1'));
    expect(first.status).toBe(402);
    const second = await call(t, 'POST', path, acme.token, undefined, withKey('decline-1'));
    expect([second.status, second.text, second.headers.get('idempotent-replayed')]).toEqual([402, first.text, 'true']);
  });

  test('a 409 from the handler is stored as well', async () => {
    const created = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa)));
    const path = `/v1/payments/${created.body.id}/cancel`;
    const first = await call(t, 'POST', path, acme.token, {}, withKey('conflict-1'));
    expect(first.status).toBe(409);
    const second = await call(t, 'POST', path, acme.token, {}, withKey('conflict-1'));
    expect([second.status, second.text]).toEqual([409, first.text]);
  });
});

describe('reuse and rejection', () => {
  test('same key, different body or path: 422 idempotency_key_reused, nothing executed', async () => {
    await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa)), withKey('reuse-1'));
    const before = await paymentCount(acme.token);
    const otherBody = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { amount: 2001 }), withKey('reuse-1'));
    expect(otherBody.status).toBe(422);
    expect(otherBody.body.error).toMatchObject({ type: 'idempotency_error', code: 'idempotency_key_reused' });
    const otherPath = await call(t, 'POST', '/v1/refunds', acme.token, { payment: 'pay_x' }, withKey('reuse-1'));
    expect(otherPath.status).toBe(422);
    expect(await paymentCount(acme.token)).toBe(before);
  });

  test('requests rejected by validation or auth are not stored', async () => {
    const invalid = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { amount: -1 }), withKey('rejected-1'));
    expect(invalid.status).toBe(400);
    const unauthenticated = await t.request('POST', '/v1/payments', { body: paymentBody(card(CARDS.visa)), headers: withKey('rejected-1') });
    expect(unauthenticated.status).toBe(401);
    const valid = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa)), withKey('rejected-1'));
    expect(valid.status).toBe(201);
    expect(valid.headers.get('idempotent-replayed')).toBeNull();
  });

  test('malformed keys: 400 parameter_invalid on Idempotency-Key', async () => {
    for (const key of ['x'.repeat(256), 'caf\u00e9', 'tab\there']) {
      const answer = await t.request('POST', '/v1/payments', { token: acme.token, body: paymentBody(card(CARDS.visa)), headers: { 'Idempotency-Key': key } }).catch(() => undefined);
      if (!answer) continue; // a header value the fetch implementation refuses to send at all
      const body = (await answer.json()) as { error: { code: string; param: string } };
      expect([answer.status, body.error.code, body.error.param]).toEqual([400, 'parameter_invalid', 'Idempotency-Key']);
    }
    const longest = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa)), withKey('k'.repeat(255)));
    expect(longest.status).toBe(201);
  });

  test('keys are per tenant', async () => {
    const other = await createTenant(t, { name: 'Other' });
    const body = paymentBody(card(CARDS.visa));
    const mine = await call(t, 'POST', '/v1/payments', acme.token, body, withKey('shared-key'));
    const theirs = await call(t, 'POST', '/v1/payments', other.token, body, withKey('shared-key'));
    expect(theirs.status).toBe(201);
    expect(theirs.headers.get('idempotent-replayed')).toBeNull();
    expect(theirs.body.id).not.toBe(mine.body.id);
  });

  test('platform routes: keys are scoped to the platform client', async () => {
    const admin = await platformToken(t, ['platform:admin']);
    const first = await call(t, 'POST', '/v1/tenants', admin, { name: 'Idem Co' }, withKey('tenant-1'));
    const second = await call(t, 'POST', '/v1/tenants', admin, { name: 'Idem Co' }, withKey('tenant-1'));
    expect(first.status).toBe(201);
    expect([second.status, second.text, second.headers.get('idempotent-replayed')]).toEqual([201, first.text, 'true']);
  });
});

describe('concurrency', () => {
  test('20 concurrent requests with one key create exactly one payment', async () => {
    const tenant = await createTenant(t, { name: 'Concurrent' });
    const body = paymentBody(card(CARDS.visa));
    const answers = await Promise.all(Array.from({ length: 20 }, () => call(t, 'POST', '/v1/payments', tenant.token, body, withKey('burst-1'))));
    const ids = new Set(answers.filter((answer) => answer.status === 201).map((answer) => answer.body.id));
    expect(ids.size).toBe(1);
    for (const answer of answers.filter((candidate) => candidate.status !== 201)) {
      expect([answer.status, answer.body.error.code]).toEqual([409, 'idempotency_key_in_use']);
    }
    expect(await paymentCount(tenant.token)).toBe(1);
  });

  test('a throwaway route of another plugin: 409 while in flight, replay after', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let runs = 0;
    const app = createApp({ config: t.config, database: t.database, logger: t.logger, metrics: t.metrics }).use(
      authGuard({ config: t.config, database: t.database }).post(
        '/v1/throwaway',
        async ({ body, request, set }) => {
          runs += 1;
          await gate;
          set.status = 201;
          return { tenant: tenantOf(request), echo: body.value, run: runs };
        },
        { scopes: ['payments:write'], body: Type.Object({ value: Type.String() }, { additionalProperties: false }) },
      ),
    );
    const send = (value: string) =>
      app.handle(
        new Request('http://localhost/v1/throwaway', {
          method: 'POST',
          headers: { authorization: `Bearer ${acme.token}`, 'content-type': 'application/json', 'idempotency-key': 'slow-1' },
          body: JSON.stringify({ value }),
        }),
      );
    const first = send('a');
    await Bun.sleep(50);
    const during = await send('a');
    expect(during.status).toBe(409);
    expect(((await during.json()) as { error: { code: string } }).error.code).toBe('idempotency_key_in_use');
    release();
    const firstAnswer = await first;
    const firstText = await firstAnswer.text();
    expect(firstAnswer.status).toBe(201);
    const replay = await send('a');
    expect([replay.status, await replay.text(), replay.headers.get('idempotent-replayed')]).toEqual([201, firstText, 'true']);
    expect((await send('b')).status).toBe(422);
    expect(runs).toBe(1);
  });
});

describe('expiry and crashed claims', () => {
  const keys = schema.idempotencyKeys;

  test('an in-progress claim past its lock is taken over by a retry', async () => {
    const body = paymentBody(card(CARDS.visa));
    const serverKey = idempotencySecrets(await fingerprintKeyFor(t.database, t.config)).fingerprint;
    const fingerprint = requestFingerprint(serverKey, 'POST', '/v1/payments', body);
    // A replica claimed the key and died: its lock ran out a moment ago.
    await claimKey(t.database, { scope: acme.tenantId, key: 'crashed-1', tenantId: acme.tenantId, method: 'POST', path: '/v1/payments', fingerprint, lockMs: -1 });
    const retry = await call(t, 'POST', '/v1/payments', acme.token, body, withKey('crashed-1'));
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
  });

  test('keys are kept 24 h, then purged; an expired key is a new key', async () => {
    const body = paymentBody(card(CARDS.visa));
    const first = await call(t, 'POST', '/v1/payments', acme.token, body, withKey('old-1'));
    const [row] = await t.database.system((tx) => tx.select().from(keys).where(and(eq(keys.scope, acme.tenantId), eq(keys.key, 'old-1'))));
    expect(row!.expiresAt.getTime() - row!.createdAt.getTime()).toBeGreaterThanOrEqual(24 * 3600 * 1000);
    expect(await purgeExpiredKeys(t.database)).toBe(0);
    await t.database.system((tx) => tx.update(keys).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(keys.key, 'old-1')));
    const again = await call(t, 'POST', '/v1/payments', acme.token, body, withKey('old-1'));
    expect(again.status).toBe(201);
    expect(again.body.id).not.toBe(first.body.id);
    await t.database.system((tx) => tx.update(keys).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(keys.key, 'old-1')));
    expect(await purgeExpiredKeys(t.database)).toBe(1);
  });
});
