import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { and, eq, sql } from 'drizzle-orm';
import { schema } from '../../db';
import { createIdempotency } from '../../plugins/idempotency';
import { ProcessorTimeoutError } from '../../processors/sdk/index.ts';
import nimbusConfig from '../../nimbus.config';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, type TestTenant } from '../helpers/auth';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { faultyDatabase, type FaultyDatabase } from '../helpers/faulty-database';
import { call, card, CARDS, eventTypes, eventually, paymentBody } from '../helpers/payments';
import { holdAuthorizations, scriptedProcessor } from '../helpers/scripted-processor';

/**
 * No double charge on retry (issue 11, item 1): the Idempotency-Key is bound to the new
 * payment (hence to its processor-side key) before the processor is called, so a retry
 * after a 5xx or a crashed replica resumes that payment instead of charging again.
 */

const scripted = scriptedProcessor();
const withKey = (key: string) => ({ 'Idempotency-Key': key });
let inner: TestDatabase;
let faulty: FaultyDatabase;
let t: TestApp;
let acme: TestTenant;

beforeAll(async () => {
  inner = await createTestDatabase();
  faulty = faultyDatabase(inner);
  t = await createTestApp({ database: faulty.database, definition: { processors: [scripted.definition] }, credentials: { scripted: {} } });
  acme = await createTenant(t);
}, 30_000);
afterAll(async () => {
  await t.close();
  await inner.close();
});
beforeEach(() => {
  scripted.reset();
  faulty.heal();
});

const paymentCount = async () => (await call(t, 'GET', '/v1/payments?limit=100', acme.token)).body.data.length as number;

describe('payments', () => {
  test('the database fails after authorization: the retry resumes that payment and the processor authorizes once', async () => {
    scripted.authorize = async (input) => {
      const result = await scripted.defaults.authorize(input);
      faulty.failNext(1); // the commit of the outcome
      return result;
    };
    const body = paymentBody(card(CARDS.visa));
    const before = await paymentCount();
    const first = await call(t, 'POST', '/v1/payments', acme.token, body, withKey('outage-1'));
    expect(first.status).toBeGreaterThanOrEqual(500);
    scripted.authorize = scripted.defaults.authorize;

    const retry = await call(t, 'POST', '/v1/payments', acme.token, body, withKey('outage-1'));
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(retry.body).toMatchObject({ status: 'succeeded', amount_received: 2000, processor: 'scripted' });
    expect(scripted.calls.authorize).toBe(1);
    expect(await paymentCount()).toBe(before + 1);
    // Its outcome was unknown to us for a while: processing is announced before the outcome.
    expect(await eventTypes(t, acme.token, retry.body.id)).toEqual(['payment.created', 'payment.processing', 'payment.succeeded']);

    const replay = await call(t, 'POST', '/v1/payments', acme.token, body, withKey('outage-1'));
    expect([replay.status, replay.text, replay.headers.get('idempotent-replayed')]).toEqual([201, retry.text, 'true']);
    expect(scripted.calls.authorize).toBe(1);
  });

  test('a key whose claim could not be given back is in use while the database is away, given back once it returns, and the retry resumes', async () => {
    scripted.authorize = async (input) => {
      const result = await scripted.defaults.authorize(input);
      faulty.failNext(1, 'tenant'); // the commit of the outcome
      faulty.failNext(Infinity, 'system'); // and the unlock after the 5xx
      return result;
    };
    const body = paymentBody(card(CARDS.visa), { capture_method: 'manual' });
    const first = await call(t, 'POST', '/v1/payments', acme.token, body, withKey('outage-2'));
    expect(first.status).toBeGreaterThanOrEqual(500);
    scripted.authorize = scripted.defaults.authorize;

    await Bun.sleep(300); // the unlock is being retried, and keeps failing
    const early = await call(t, 'POST', '/v1/payments', acme.token, body, withKey('outage-2'));
    expect([early.status, early.body.error.code]).toEqual([409, 'idempotency_key_in_use']);

    // The database is back: the key is given back within seconds, not when its 2-minute lock ends.
    faulty.heal();
    const retry = await eventually(async () => {
      const answer = await call(t, 'POST', '/v1/payments', acme.token, body, withKey('outage-2'));
      return answer.status === 409 ? undefined : answer;
    }, { timeoutMs: 10_000, stepMs: 100 });
    expect(retry.status).toBe(201);
    expect(retry.body).toMatchObject({ status: 'requires_capture', amount_capturable: 2000 });
    expect(scripted.calls.authorize).toBe(1);
  });

  test('a replica that died holding a key: the retry resumes once the claim lapses', async () => {
    scripted.authorize = async (input) => {
      const result = await scripted.defaults.authorize(input);
      faulty.failNext(1, 'tenant'); // the commit of the outcome
      faulty.failNext(Infinity, 'system'); // and nothing of this request writes again, as if its replica died
      return result;
    };
    const body = paymentBody(card(CARDS.visa), { capture_method: 'manual' });
    const first = await call(t, 'POST', '/v1/payments', acme.token, body, withKey('crash-1'));
    expect(first.status).toBeGreaterThanOrEqual(500);
    scripted.authorize = scripted.defaults.authorize;

    const early = await call(t, 'POST', '/v1/payments', acme.token, body, withKey('crash-1'));
    expect([early.status, early.body.error.code]).toEqual([409, 'idempotency_key_in_use']);
    // Its lock ran out.
    const keys = schema.idempotencyKeys;
    await inner.system((tx) => tx.update(keys).set({ lockedUntil: sql`now() - interval '1 second'` }).where(and(eq(keys.scope, acme.tenantId), eq(keys.key, 'crash-1'))));

    const retry = await call(t, 'POST', '/v1/payments', acme.token, body, withKey('crash-1'));
    expect(retry.status).toBe(201);
    expect(retry.body).toMatchObject({ status: 'requires_capture', amount_capturable: 2000 });
    expect(scripted.calls.authorize).toBe(1);
    faulty.heal();
  });

  test('an authorization that never arrived is sent again, under the same processor-side key', async () => {
    scripted.authorize = async () => {
      faulty.failNext(1); // lost on the way, and then the database fails too
      throw new ProcessorTimeoutError();
    };
    const body = paymentBody(card(CARDS.visa));
    const before = await paymentCount();
    const first = await call(t, 'POST', '/v1/payments', acme.token, body, withKey('lost-1'));
    expect(first.status).toBeGreaterThanOrEqual(500);
    scripted.authorize = scripted.defaults.authorize;
    const keysBefore = scripted.keys.size;

    const retry = await call(t, 'POST', '/v1/payments', acme.token, body, withKey('lost-1'));
    expect(retry.status).toBe(201);
    expect(retry.body.status).toBe('succeeded');
    expect(scripted.calls.authorize).toBe(2);
    expect(await paymentCount()).toBe(before + 1);
    expect(scripted.keys.size).toBe(keysBefore + 1);
    expect([...scripted.keys.keys()].at(-1)).toBe(`nimbus:${retry.body.id}:authorize`);
  });
});

describe('refunds', () => {
  test('the database fails after the refund: the retry resumes it and the processor refunds once', async () => {
    const payment = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa)));
    scripted.refund = async (input) => {
      const result = await scripted.defaults.refund(input);
      faulty.failNext(1);
      return result;
    };
    const body = { payment: payment.body.id, amount: 500 };
    const first = await call(t, 'POST', '/v1/refunds', acme.token, body, withKey('refund-outage-1'));
    expect(first.status).toBeGreaterThanOrEqual(500);
    scripted.refund = scripted.defaults.refund;

    const retry = await call(t, 'POST', '/v1/refunds', acme.token, body, withKey('refund-outage-1'));
    expect(retry.status).toBe(201);
    expect(retry.body).toMatchObject({ status: 'succeeded', amount: 500, payment: payment.body.id });
    expect(scripted.calls.refund).toBe(1);
    const refunds = await call(t, 'GET', `/v1/refunds?payment=${payment.body.id}`, acme.token);
    expect(refunds.body.data).toHaveLength(1);
    expect((await call(t, 'GET', `/v1/payments/${payment.body.id}`, acme.token)).body.amount_refunded).toBe(500);
  });
});

describe('a retry whose request would now be refused still gets the first request\'s outcome (drill 3a)', () => {
  type Operation = 'authorize' | 'capture' | 'cancel' | 'refund';

  /**
   * Sends the request once while the commit of its outcome fails (after the processor
   * answered `operation`), expects a 5xx, then sends it again with the same key on a
   * healthy database: the retry's answer.
   */
  async function lostThenRetried(operation: Operation, path: string, body: unknown, key: string) {
    const real = scripted.defaults[operation] as (input: unknown) => Promise<unknown>;
    (scripted as unknown as Record<Operation, (input: unknown) => Promise<unknown>>)[operation] = async (input) => {
      const result = await real(input);
      faulty.failNext(1); // the commit of the outcome
      return result;
    };
    const first = await call(t, 'POST', path, acme.token, body, withKey(key));
    (scripted as unknown as Record<Operation, unknown>)[operation] = real;
    expect(first.status).toBeGreaterThanOrEqual(500);
    const retry = await call(t, 'POST', path, acme.token, body, withKey(key));
    return retry;
  }

  test('a full refund whose outcome was lost: the retry resumes it, not 409 refund_exceeds_captured', async () => {
    const payment = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa)));
    const retry = await lostThenRetried('refund', '/v1/refunds', { payment: payment.body.id, amount: 2000 }, 'refund-full-1');
    expect([retry.status, retry.body.error?.code]).toEqual([201, undefined]);
    expect(retry.body).toMatchObject({ status: 'succeeded', amount: 2000, payment: payment.body.id });
    expect(scripted.calls.refund).toBe(1);
  });

  test('a confirm whose outcome was lost: the retry learns it from the processor (never sends again), not 409 payment_unexpected_state', async () => {
    const pending = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { confirm: false }));
    const path = `/v1/payments/${pending.body.id}/confirm`;
    const retry = await lostThenRetried('authorize', path, undefined, 'confirm-lost-1');
    expect([retry.status, retry.body.error?.code]).toEqual([200, undefined]);
    expect(retry.body).toMatchObject({ id: pending.body.id, status: 'succeeded', amount_received: 2000 });
    expect(scripted.calls.authorize).toBe(1);
    const replay = await call(t, 'POST', path, acme.token, undefined, withKey('confirm-lost-1'));
    expect([replay.status, replay.text, replay.headers.get('idempotent-replayed')]).toEqual([200, retry.text, 'true']);
  });

  test('a capture whose outcome was lost: the retry answers the capture, not 409 payment_unexpected_state', async () => {
    const payment = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { capture_method: 'manual' }));
    expect(payment.body.status).toBe('requires_capture');
    const path = `/v1/payments/${payment.body.id}/capture`;
    const retry = await lostThenRetried('capture', path, {}, 'capture-lost-1');
    expect([retry.status, retry.body.error?.code]).toEqual([200, undefined]);
    expect(retry.body).toMatchObject({ status: 'succeeded', amount_received: 2000 });
    // Asked again under the same processor-side key: the processor captured once.
    expect(scripted.ledger.get(payment.body.processor_reference)).toMatchObject({ status: 'succeeded', captured: 2000 });
    const replay = await call(t, 'POST', path, acme.token, {}, withKey('capture-lost-1'));
    expect([replay.status, replay.text, replay.headers.get('idempotent-replayed')]).toEqual([200, retry.text, 'true']);
  });

  test('a cancel whose outcome was lost: the retry answers the cancel, not 409 payment_unexpected_state', async () => {
    const payment = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { capture_method: 'manual' }));
    const path = `/v1/payments/${payment.body.id}/cancel`;
    const retry = await lostThenRetried('cancel', path, { cancellation_reason: 'requested_by_customer' }, 'cancel-lost-1');
    expect([retry.status, retry.body.error?.code]).toEqual([200, undefined]);
    expect(retry.body).toMatchObject({ status: 'canceled', cancellation_reason: 'requested_by_customer' });
    expect(scripted.ledger.get(payment.body.processor_reference)?.status).toBe('canceled');
  });
});

describe('a long processor call keeps its claim', () => {
  const slow = scriptedProcessor('slowpay');
  let slowFaulty: FaultyDatabase;
  let app: TestApp;
  let tenant: TestTenant;
  beforeAll(async () => {
    slowFaulty = faultyDatabase(inner);
    app = await createTestApp({
      database: slowFaulty.database,
      definition: {
        processors: [slow.definition],
        // A 1.5 s lock: far shorter than the call below, so only the heartbeat keeps the key.
        plugins: nimbusConfig.plugins.map((plugin) => (plugin.name === 'idempotency' ? createIdempotency({ lockMs: 1500 }) : plugin)),
      },
      credentials: { slowpay: {} },
    });
    tenant = await createTenant(app);
  }, 30_000);
  afterAll(() => app.close());

  /** A payment whose authorization is held `waitMs`, and the same request again meanwhile. */
  async function retryDuringLongCall(key: string, body: unknown, waitMs: number) {
    const { entered, release } = holdAuthorizations(slow);
    const first = call(app, 'POST', '/v1/payments', tenant.token, body, withKey(key));
    await entered;
    await Bun.sleep(waitMs);
    const during = await call(app, 'POST', '/v1/payments', tenant.token, body, withKey(key));
    release();
    return { during, first: await first };
  }

  test('a retry during the call is 409 in use, not a takeover and a second charge', async () => {
    const { during, first } = await retryDuringLongCall('long-1', paymentBody(card(CARDS.visa)), 4000);
    expect([during.status, during.body.error?.code]).toEqual([409, 'idempotency_key_in_use']);
    expect(first.status).toBe(201);
    expect(slow.calls.authorize).toBe(1);
  }, 30_000);

  // The heartbeat starts when the claim is made, inside the first transaction. A renewal
  // that runs before that transaction commits finds no row it can see (on PostgreSQL: the
  // insert is not yet visible); it once took that for "the key is no longer ours" and
  // stopped, so the key lapsed during the processor call and a retry took it over (seen
  // on a loaded CI machine). PGlite's one connection makes the renewal wait for the
  // commit, so only the PostgreSQL run can fail without the fix.
  test('a first transaction slow to commit: the heartbeat still holds the key through the call', async () => {
    slow.reset();
    slowFaulty.slowCommitNext(800); // past the first renewal (every 500 ms for a 1.5 s lock)
    const { during, first } = await retryDuringLongCall('slow-commit-1', paymentBody(card(CARDS.visa), { amount: 2600 }), 3000);
    expect([during.status, during.body.error?.code]).toEqual([409, 'idempotency_key_in_use']);
    expect(first.status).toBe(201);
    expect(slow.calls.authorize).toBe(1);
  }, 30_000);
});

describe('routes that store their answer after their change', () => {
  test('the answer could not be stored (the database went away right after the change): the key is settled once it returns, and the retry replays the answer', async () => {
    const body = { url: 'https://example.com/settle-later', enabled_events: ['payment.succeeded'] };
    const endpoints = async () => (await call(t, 'GET', '/v1/webhook_endpoints?limit=100', acme.token)).body.data.filter((e: { url: string }) => e.url === body.url).length as number;
    // The endpoint's insert commits; from then on every system transaction fails, the
    // storing of the answer first.
    faulty.afterNext('tenant', () => faulty.failNext(Infinity, 'system'));
    const first = await call(t, 'POST', '/v1/webhook_endpoints', acme.token, body, withKey('settle-later-1'));
    expect(first.status).toBe(201); // the change is committed: its answer stands

    await Bun.sleep(300); // the store is being retried, and keeps failing
    const early = await call(t, 'POST', '/v1/webhook_endpoints', acme.token, body, withKey('settle-later-1'));
    // Its own claim cannot reach the database either: an error answer, never a second
    // endpoint (the simulated outage is a plain Error, hence 500; a real one answers 503).
    expect([500, 503]).toContain(early.status);
    faulty.heal();
    expect(await endpoints()).toBe(1);

    // The database is back: the answer is stored within seconds, not when the 2-minute lock ends.
    const retry = await eventually(async () => {
      const answer = await call(t, 'POST', '/v1/webhook_endpoints', acme.token, body, withKey('settle-later-1'));
      return answer.status === 201 ? answer : undefined;
    }, { timeoutMs: 10_000, stepMs: 100 });
    expect([retry.text, retry.headers.get('idempotent-replayed')]).toEqual([first.text, 'true']);
    expect(await endpoints()).toBe(1);
  });
});
