import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createReconciler } from '../../plugins/payments';
import { startReceiver } from '../../webhooks/test-support';
import { startWebhookWorker } from '../../webhooks/worker';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, type TestTenant } from '../helpers/auth';
import { allStoredText, call, eventTypes, eventually, IBANS, paymentBody, type Json } from '../helpers/payments';

/**
 * SEPA Direct Debit (`sepa_debit`) over HTTP through the app of nimbus.config.ts: the
 * method is one folder plus one line in the composition root, and everything else (the
 * create body, validation, redaction, the simulator's outcomes, events, metrics, the
 * OpenAPI document) follows from the registry.
 */

let t: TestApp;
let acme: TestTenant;
const responses: string[] = [];
beforeAll(async () => {
  t = await createTestApp({ env: { NIMBUS_RECONCILE_AFTER_MS: '0' } });
  acme = await createTenant(t);
}, 30_000);
afterAll(() => t.close());

const MANDATE = { reference: 'MNDT-2026-0001', signed_at: '2026-11-01' };

function sepaDebit(iban: string, overrides: Record<string, unknown> = {}, mandate: Record<string, unknown> = {}) {
  return { type: 'sepa_debit', sepa_debit: { iban, account_holder_name: 'Jane Doe', mandate: { ...MANDATE, ...mandate }, ...overrides } };
}

const pay = async (body: unknown, tenant = acme) => {
  const answer = await call(t, 'POST', '/v1/payments', tenant.token, body);
  responses.push(answer.text);
  return answer;
};
const get = async (id: string, tenant = acme) => {
  const answer = await call(t, 'GET', `/v1/payments/${id}`, tenant.token);
  responses.push(answer.text);
  return answer;
};
const settled = (id: string) =>
  eventually(async () => {
    const payment = (await get(id)).body as Json;
    return payment.status === 'processing' ? undefined : payment;
  });

/** The IBANs of the simulator table, plus the same ones as a client may print them. */
const SECRETS = [...Object.values(IBANS), '370400440532013000', '370400440532013001', '370400440532013002', '0532 0130 00'];

describe('a sepa_debit payment', () => {
  test('is created processing with the public view, then settles to succeeded by callback', async () => {
    const created = await pay(paymentBody(sepaDebit(IBANS.settles), { description: 'Invoice 7' }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      object: 'payment',
      status: 'processing',
      amount: 2000,
      currency: 'EUR',
      amount_received: 0,
      processor: 'simulator',
      failure: null,
      description: 'Invoice 7',
    });
    expect(created.body.payment_method).toEqual({
      type: 'sepa_debit',
      sepa_debit: {
        scheme: 'sepa',
        last4: '3000',
        country: 'DE',
        bank_code: '37040044',
        fingerprint: expect.any(String),
        mandate_reference: 'MNDT-2026-0001',
      },
    });
    for (const secret of SECRETS) expect(created.text).not.toContain(secret);

    const payment = await settled(created.body.id);
    expect(payment).toMatchObject({ status: 'succeeded', amount_received: 2000, failure: null });
    expect(payment.payment_method).toEqual(created.body.payment_method);
    expect(await eventTypes(t, acme.token, created.body.id)).toEqual(['payment.created', 'payment.processing', 'payment.succeeded']);
  });

  test('GET /v1/payments/:id and the list show it', async () => {
    const created = await pay(paymentBody(sepaDebit('DE89 3704 0044 0532 0130 00')));
    const fetched = await get(created.body.id);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toMatchObject({ id: created.body.id, payment_method: { type: 'sepa_debit', sepa_debit: { last4: '3000', mandate_reference: 'MNDT-2026-0001' } } });
    const list = await call(t, 'GET', '/v1/payments?limit=100', acme.token);
    responses.push(list.text);
    expect(list.body.data.find((row: Json) => row.id === created.body.id)?.payment_method.type).toBe('sepa_debit');
  });

  test('the same account has the fingerprint of a SEPA bank transfer from it', async () => {
    const debit = await pay(paymentBody(sepaDebit(IBANS.settles)));
    const transfer = await pay(
      paymentBody({ type: 'bank_transfer', bank_transfer: { scheme: 'sepa', iban: IBANS.settles, account_holder_name: 'Jane Doe' } }),
    );
    expect(debit.body.payment_method.sepa_debit.fingerprint).toBe(transfer.body.payment_method.bank_transfer.fingerprint);
  });

  test('the returned IBAN ends failed with AC04', async () => {
    const created = await pay(paymentBody(sepaDebit(IBANS.returned)));
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('processing');
    const payment = await settled(created.body.id);
    expect(payment.status).toBe('failed');
    expect(payment.failure).toMatchObject({ code: 'AC04', message: expect.any(String) });
    expect(payment.amount_received).toBe(0);
    expect(await eventTypes(t, acme.token, created.body.id)).toEqual(['payment.created', 'payment.processing', 'payment.failed']);
  });

  test('an account without callbacks settles by reconciliation only', async () => {
    const created = await pay(paymentBody(sepaDebit(IBANS.reconcileOnly)));
    expect(created.body.status).toBe('processing');
    await Bun.sleep(80);
    expect((await get(created.body.id)).body.status).toBe('processing');
    await createReconciler(t.payments, { autoStart: false }).runOnce();
    expect((await get(created.body.id)).body.status).toBe('succeeded');
  });

  test('confirm: false keeps it waiting; confirm sends it, and it settles', async () => {
    const created = await pay(paymentBody(sepaDebit(IBANS.settles), { confirm: false }));
    expect(created.body).toMatchObject({ status: 'requires_confirmation', payment_method: { type: 'sepa_debit' } });
    const confirmed = await call(t, 'POST', `/v1/payments/${created.body.id}/confirm`, acme.token);
    responses.push(confirmed.text);
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.status).toBe('processing');
    expect((await settled(created.body.id)).status).toBe('succeeded');
  });
});

describe('validation over HTTP', () => {
  test('a currency other than EUR is 400 currency_unsupported on currency', async () => {
    for (const currency of ['USD', 'GBP']) {
      const answer = await pay(paymentBody(sepaDebit(IBANS.settles), { currency }));
      expect(answer.status).toBe(400);
      expect(answer.body.error).toMatchObject({ type: 'invalid_request_error', code: 'currency_unsupported', param: 'currency' });
    }
  });

  const cases: Array<[string, unknown, string, string]> = [
    ['a bad check digit', sepaDebit('DE00370400440532013000'), 'iban_invalid', 'payment_method.sepa_debit.iban'],
    ['a non-SEPA IBAN', sepaDebit('TR330006100519786457841326'), 'iban_invalid', 'payment_method.sepa_debit.iban'],
    ['no IBAN', { type: 'sepa_debit', sepa_debit: { account_holder_name: 'J', mandate: MANDATE } }, 'parameter_missing', 'payment_method.sepa_debit.iban'],
    ['no mandate', { type: 'sepa_debit', sepa_debit: { iban: IBANS.settles, account_holder_name: 'J' } }, 'parameter_missing', 'payment_method.sepa_debit.mandate'],
    ['no details', { type: 'sepa_debit' }, 'parameter_missing', 'payment_method.sepa_debit'],
    ['an unknown field', sepaDebit(IBANS.settles, { bic: 'COBADEFFXXX' }), 'parameter_unknown', 'payment_method.sepa_debit.bic'],
    ['an unknown mandate field', sepaDebit(IBANS.settles, {}, { sequence: 'RCUR' }), 'parameter_unknown', 'payment_method.sepa_debit.mandate.sequence'],
    ['a reference outside the SEPA set', sepaDebit(IBANS.settles, {}, { reference: 'MNDT_2026' }), 'parameter_invalid', 'payment_method.sepa_debit.mandate.reference'],
    ['a reference with //', sepaDebit(IBANS.settles, {}, { reference: 'MNDT//1' }), 'parameter_invalid', 'payment_method.sepa_debit.mandate.reference'],
    ['a 36-character reference', sepaDebit(IBANS.settles, {}, { reference: 'M'.repeat(36) }), 'parameter_invalid', 'payment_method.sepa_debit.mandate.reference'],
    ['an empty reference', sepaDebit(IBANS.settles, {}, { reference: '' }), 'parameter_invalid', 'payment_method.sepa_debit.mandate.reference'],
    ['a signature date in the future', sepaDebit(IBANS.settles, {}, { signed_at: `${new Date().getUTCFullYear() + 1}-01-01` }), 'parameter_invalid', 'payment_method.sepa_debit.mandate.signed_at'],
    ['a signature date that is no date', sepaDebit(IBANS.settles, {}, { signed_at: '2026-02-30' }), 'parameter_invalid', 'payment_method.sepa_debit.mandate.signed_at'],
    ['a signature timestamp', sepaDebit(IBANS.settles, {}, { signed_at: '2026-11-01T10:00:00Z' }), 'parameter_invalid', 'payment_method.sepa_debit.mandate.signed_at'],
  ];
  for (const [name, method, code, param] of cases) {
    test(`${name}: 400 ${code} on ${param}`, async () => {
      const answer = await pay(paymentBody(method));
      expect(answer.status).toBe(400);
      expect(answer.body.error).toMatchObject({ type: 'invalid_request_error', code, param });
      expect(answer.text).not.toContain('0532013000');
    });
  }
});

describe('no full IBAN escapes', () => {
  test('in webhooks: the events of a debit arrive without it', async () => {
    const hooks = await createTenant(t, { name: 'Hooks' });
    const receiver = startReceiver();
    const worker = startWebhookWorker(
      { database: t.database, logger: t.logger, metrics: t.metrics },
      { allowPrivate: true, pollIntervalMs: 50, leaseMs: 5000, timeoutMs: 2000, retry: { delaysMs: [100], jitter: 0 } },
    );
    try {
      const endpoint = await call(t, 'POST', '/v1/webhook_endpoints', hooks.token, { url: receiver.url, enabled_events: ['*'] });
      expect(endpoint.status).toBe(201);
      const created = await pay(paymentBody(sepaDebit(IBANS.settles)), hooks);
      const received = await receiver.waitFor(3, 10_000);
      const bodies = received.map((request) => JSON.parse(request.body) as Json);
      expect(bodies.map((event) => event.type)).toEqual(['payment.created', 'payment.processing', 'payment.succeeded']);
      for (const event of bodies) {
        expect(event.data.object).toMatchObject({ id: created.body.id, payment_method: { type: 'sepa_debit', sepa_debit: { last4: '3000' } } });
      }
      for (const secret of SECRETS) expect(received.map((request) => request.body).join('\n')).not.toContain(secret);
    } finally {
      await worker.stop();
      receiver.stop();
    }
  }, 30_000);

  test('in any response, event, log line or stored row', async () => {
    await eventually(async () => ((await call(t, 'GET', '/v1/payments?status=processing', acme.token)).body.data.length === 0 ? true : undefined));
    const events = await call(t, 'GET', '/v1/events?limit=100', acme.token);
    expect(events.body.data.some((event: Json) => event.data.object.payment_method?.type === 'sepa_debit')).toBe(true);
    const stored = await allStoredText(t.database);
    const logs = t.logs.text();
    expect(logs.length).toBeGreaterThan(0);
    for (const [where, text] of [['responses', responses.join('\n')], ['events', events.text], ['logs', logs], ['database', stored]] as const) {
      for (const secret of SECRETS) expect({ where, leaked: text.includes(secret) ? secret : null }).toEqual({ where, leaked: null });
      expect({ where, ibanField: /"iban"/.test(text) }).toEqual({ where, ibanField: false });
    }
  });
});

/** Every object schema in `node` (through anyOf/oneOf/allOf, properties, items and $ref into the document). */
function* schemasIn(node: unknown, document: Json, seen = new Set<unknown>()): Generator<Json> {
  if (typeof node !== 'object' || node === null || seen.has(node)) return;
  seen.add(node);
  const schema = node as Json;
  if (typeof schema.$ref === 'string' && schema.$ref.startsWith('#/')) {
    const target = schema.$ref.slice(2).split('/').reduce((at: Json, part: string) => at?.[part], document);
    yield* schemasIn(target, document, seen);
  }
  yield schema;
  for (const value of Object.values(schema)) yield* schemasIn(value, document, seen);
}

/** The variant of a `payment_method` union whose `type` is `sepa_debit`, found anywhere under `node`. */
function sepaDebitVariant(node: unknown, document: Json): Json | undefined {
  for (const schema of schemasIn(node, document)) {
    const type = schema.properties?.type;
    if (type && (type.const === 'sepa_debit' || (Array.isArray(type.enum) && type.enum.includes('sepa_debit'))) && schema.properties.sepa_debit) {
      return schema;
    }
  }
  return undefined;
}

describe('the OpenAPI document', () => {
  let document: Json;
  beforeAll(async () => {
    document = await (await t.request('GET', '/docs/json')).json();
  });

  // Request bodies reach /docs/json under application/json (runtime/http declares the
  // JSON parser after its deferred raw-body one, which is what @elysiajs/openapi reads).
  test('lists a sepa_debit variant, with its mandate, in the create-payment request body', () => {
    const requestBody = document.paths['/v1/payments'].post.requestBody;
    const variant = sepaDebitVariant(requestBody, document);
    expect(variant).toBeDefined();
    const details = schemasIn(variant.properties.sepa_debit, document).next().value as Json;
    expect(details.required).toEqual(expect.arrayContaining(['iban', 'account_holder_name', 'mandate']));
    expect(details.properties.mandate.required).toEqual(expect.arrayContaining(['reference', 'signed_at']));
  });

  test('the create-payment route validates against a body with a sepa_debit variant', () => {
    const route = t.app.routes.find((candidate) => candidate.method === 'POST' && candidate.path === '/v1/payments');
    const body = (route?.hooks as Json)?.body;
    const variant = sepaDebitVariant(body?.properties?.payment_method, document);
    expect(variant).toBeDefined();
    expect(variant.properties.sepa_debit.required).toEqual(expect.arrayContaining(['iban', 'account_holder_name', 'mandate']));
  });

  test('the payment object lists the sepa_debit public view: mandate reference, no IBAN', () => {
    const created = document.paths['/v1/payments'].post.responses['201'];
    const variant = sepaDebitVariant(created, document);
    expect(variant).toBeDefined();
    const view = schemasIn(variant.properties.sepa_debit, document).next().value as Json;
    expect(Object.keys(view.properties).sort()).toEqual(['bank_code', 'country', 'fingerprint', 'last4', 'mandate_reference', 'scheme']);
  });
});

describe('metrics', () => {
  test('nimbus_payments_total counts sepa_debit by processor and status', async () => {
    const text = await (await t.request('GET', '/metrics')).text();
    expect(text).toMatch(/nimbus_payments_total\{method="sepa_debit",processor="simulator",status="succeeded"\} \d+/);
    expect(text).toMatch(/nimbus_payments_total\{method="sepa_debit",processor="simulator",status="failed"\} \d+/);
  });
});
