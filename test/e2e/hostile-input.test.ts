import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, platformToken, type TestTenant } from '../helpers/auth';
import { backend } from '../helpers/db';
import { call, card, CARDS, type Json, paymentBody } from '../helpers/payments';

/**
 * Issue 11, points 14 and 15: hostile strings in every free-text field, and JSON built
 * to be expensive, over HTTP through the app of nimbus.config.ts, on whichever backend
 * the run uses (PGlite, or PostgreSQL with TEST_DATABASE_URL). Every answer is either a
 * 400 naming the field, or the text stored and returned exactly; never a 5xx.
 */

let t: TestApp;
let acme: TestTenant;
let admin: string;
let refundable: string;

beforeAll(async () => {
  t = await createTestApp();
  acme = await createTenant(t);
  admin = await platformToken(t, ['platform:admin']);
  const payment = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { amount: 99_999_999 }));
  expect(payment.status).toBe(201);
  refundable = payment.body.id;
}, 120_000);
afterAll(() => t.close());

/** Characters that break naive code: C0/C1 controls, NUL, lone surrogates, BOM, bidi overrides, separators, non-characters. */
const NASTY = [
  '\u0000', '\u0001', '\u0007', '\b', '\t', '\n', '\u000b', '\f', '\r', '\u001b', '\u001f', '\u007f', '\u0080', '\u0085', '\u009f',
  '\u00a0', '\u200b', '\u200d', '\u200e', '\u202e', '\u2028', '\u2029', '\ufeff', '\ufffd', '\ufffe', '\uffff',
  '\ud800', '\udbff', '\udc00', '\udfff', '\ud83d\ude00', 'e\u0301', '"', '\\', '/', "'", '<', '>', '&', '%00', '\\u0000', '${x}', '?', '#', ' ', 'a', '9',
];
const nastyUnit = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);
/** Mostly short, sometimes 5,000 to 6,000 characters (one field per request keeps the body under 64 KiB). */
const hostile = fc.oneof(
  { weight: 5, arbitrary: fc.string({ unit: nastyUnit, maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: nastyUnit, minLength: 5_000, maxLength: 6_000 }) },
);
const RUNS = { numRuns: 25 };

/** The test's own idea of storable text (not the code under test): lossless through UTF-8, no NUL. */
function storable(text: string): boolean {
  return !text.includes('\u0000') && Buffer.from(text, 'utf8').toString('utf8') === text;
}

/**
 * Known limitation of the embedded backend only: PGlite decodes each text column with a
 * default TextDecoder, which drops one leading U+FEFF (it reads it as a byte order
 * mark). PostgreSQL itself stores it; postgres.js returns it. jsonb is not affected.
 */
function sameText(returned: unknown, sent: string): boolean {
  if (returned === sent) return true;
  return backend === 'pglite' && sent.startsWith('\ufeff') && returned === sent.slice(1);
}

interface Field {
  /** The param a 400 for this field names (any one of them). */
  params: (text: string) => string[];
  maxLength: number;
  minLength?: number;
  /** Sends `text` in this field; answers the HTTP result. */
  send: (text: string) => Promise<{ status: number; body: Json }>;
  /** The field as the create answer returned it, and as a fresh read of the stored object returns it. */
  returned: (body: Json) => unknown;
  stored: (body: Json) => Promise<unknown>;
}

async function checkField(field: Field, text: string): Promise<void> {
  const answer = await field.send(text);
  expect(answer.status).toBeLessThan(500);
  const context = `${answer.status} ${JSON.stringify(answer.body?.error ?? {})}`;
  const tooLong = text.length > field.maxLength || text.length < (field.minLength ?? 0);
  if (!storable(text) || tooLong) {
    expect({ status: answer.status, code: answer.body?.error?.code }, context).toEqual({ status: 400, code: 'parameter_invalid' });
    expect(field.params(text), context).toContain(answer.body.error.param);
    return;
  }
  expect(answer.status, context).toBe(201);
  expect(sameText(field.returned(answer.body), text), 'returned exactly').toBe(true);
  expect(sameText(await field.stored(answer.body), text), 'stored exactly').toBe(true);
}

const getPayment = async (body: Json) => (await call(t, 'GET', `/v1/payments/${body.id}`, acme.token)).body;
const getTenant = async (body: Json) => (await call(t, 'GET', `/v1/tenants/${body.id}`, admin)).body;
const getRefund = async (body: Json) => (await call(t, 'GET', `/v1/refunds/${body.id}`, acme.token)).body;
const getEndpoint = async (body: Json) => (await call(t, 'GET', `/v1/webhook_endpoints/${body.id}`, acme.token)).body;

const FIELDS: Record<string, Field> = {
  'payment description': {
    params: () => ['description'],
    maxLength: 1000,
    send: (text) => call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { description: text })),
    returned: (body) => body.description,
    stored: async (body) => (await getPayment(body)).description,
  },
  'payment metadata value': {
    params: () => ['metadata.note'],
    maxLength: 500,
    send: (text) => call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { metadata: { note: text } })),
    returned: (body) => body.metadata.note,
    stored: async (body) => (await getPayment(body)).metadata.note,
  },
  'payment metadata key': {
    params: () => ['metadata'],
    maxLength: 40,
    minLength: 1,
    send: (text) => call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { metadata: { [text]: 'v' } })),
    returned: (body) => Object.keys(body.metadata)[0],
    stored: async (body) => Object.keys((await getPayment(body)).metadata)[0],
  },
  'refund metadata value': {
    params: () => ['metadata.note'],
    maxLength: 500,
    send: (text) => call(t, 'POST', '/v1/refunds', acme.token, { payment: refundable, amount: 1, metadata: { note: text } }),
    returned: (body) => body.metadata.note,
    stored: async (body) => (await getRefund(body)).metadata.note,
  },
  'refund metadata key': {
    params: () => ['metadata'],
    maxLength: 40,
    minLength: 1,
    send: (text) => call(t, 'POST', '/v1/refunds', acme.token, { payment: refundable, amount: 1, metadata: { [text]: 'v' } }),
    returned: (body) => Object.keys(body.metadata)[0],
    stored: async (body) => Object.keys((await getRefund(body)).metadata)[0],
  },
  'tenant name': {
    params: () => ['name'],
    maxLength: 200,
    minLength: 1,
    send: (text) => call(t, 'POST', '/v1/tenants', admin, { name: text }),
    returned: (body) => body.name,
    stored: async (body) => (await getTenant(body)).name,
  },
  'tenant metadata value': {
    params: () => ['metadata.note'],
    maxLength: 500,
    send: (text) => call(t, 'POST', '/v1/tenants', admin, { name: 'Hostile', metadata: { note: text } }),
    returned: (body) => body.metadata.note,
    stored: async (body) => (await getTenant(body)).metadata.note,
  },
  'tenant metadata key': {
    // The tenancy service names an over-long key itself (`metadata.<key>`).
    params: (text) => ['metadata', `metadata.${text}`],
    maxLength: 40,
    minLength: 1,
    send: (text) => call(t, 'POST', '/v1/tenants', admin, { name: 'Hostile', metadata: { [text]: 'v' } }),
    returned: (body) => Object.keys(body.metadata)[0],
    stored: async (body) => Object.keys((await getTenant(body)).metadata)[0],
  },
  'client name': {
    params: () => ['name'],
    maxLength: 200,
    minLength: 1,
    send: (text) => call(t, 'POST', '/v1/clients', acme.token, { name: text, scopes: ['payments:read'] }),
    returned: (body) => body.name,
    // Newest first, and this suite creates clients one at a time.
    stored: async (body) => {
      const page = (await call(t, 'GET', '/v1/clients?limit=1', acme.token)).body;
      expect(page.data[0].id).toBe(body.id);
      return page.data[0].name;
    },
  },
  'webhook endpoint description': {
    params: () => ['description'],
    maxLength: 500,
    send: (text) => call(t, 'POST', '/v1/webhook_endpoints', acme.token, { url: 'https://example.com/hook', enabled_events: ['*'], description: text }),
    returned: (body) => body.description,
    stored: async (body) => (await getEndpoint(body)).description,
  },
};

describe('hostile strings in free-text fields: a 400 naming the field, or stored and returned exactly', () => {
  for (const [name, field] of Object.entries(FIELDS)) {
    test(name, async () => {
      await fc.assert(fc.asyncProperty(hostile, (text) => checkField(field, text)), RUNS);
    }, 120_000);
  }

  test('the examples that used to be 500s', async () => {
    for (const [name, text] of [['payment description', 'a\u0000b'], ['payment metadata value', '\ud800'], ['payment metadata key', 'k\u0000'], ['tenant name', 'x\udfff'], ['client name', '\u0000'], ['webhook endpoint description', 'd\u0000']] as const) {
      const answer = await FIELDS[name]!.send(text);
      expect({ name, status: answer.status, code: answer.body.error?.code }).toEqual({ name, status: 400, code: 'parameter_invalid' });
    }
  });

  test('webhook endpoint url: a 400 naming url, or stored as the normalized URL (WHATWG), never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(hostile, async (text) => {
        const url = `https://example.com/${text}`;
        const answer = await call(t, 'POST', '/v1/webhook_endpoints', acme.token, { url, enabled_events: ['*'] });
        expect(answer.status).toBeLessThan(500);
        if (!storable(text) || url.length > 2048) {
          expect({ status: answer.status, param: answer.body.error?.param }).toEqual({ status: 400, param: 'url' });
          return;
        }
        expect(answer.status).toBe(201);
        expect(answer.body.url).toBe(new URL(url).href);
        expect((await getEndpoint(answer.body)).url).toBe(new URL(url).href);
      }),
      RUNS,
    );
  }, 120_000);

  test('NUL in a path or query parameter is a 400 naming it, not a 500 from the driver', async () => {
    const cases: Array<[string, string]> = [
      ['/v1/payments/pay_a%00b', 'id'],
      ['/v1/payments?starting_after=pay_%00', 'starting_after'],
      ['/v1/refunds?payment=pay_%00', 'payment'],
      ['/v1/webhook_endpoints/we_%00', 'id'],
    ];
    for (const [path, param] of cases) {
      const answer = await call(t, 'GET', path, acme.token);
      expect({ path, status: answer.status, code: answer.body.error.code, param: answer.body.error.param }).toEqual({ path, status: 400, code: 'parameter_invalid', param });
    }
    const tenant = await call(t, 'GET', '/v1/tenants/ten_%00', admin);
    expect(tenant.status).toBe(400);
  });

  test('NUL in OAuth client credentials is refused without a 5xx', async () => {
    const response = await t.app.handle(
      new Request('http://localhost/oauth/token', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials&client_id=cli_a%00b&client_secret=x',
      }),
    );
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });
});

describe('pathological JSON within the size limit', () => {
  const post = (text: string) => t.request('POST', '/v1/payments', { token: acme.token, body: text });

  test('a 40 KB body of 20,000 nested arrays is a 400 body_too_complex in well under 2 seconds', async () => {
    const started = performance.now();
    const response = await post('['.repeat(20_000) + ']'.repeat(20_000));
    const elapsed = performance.now() - started;
    expect(response.status).toBe(400);
    expect(((await response.json()) as Json).error).toMatchObject({ type: 'invalid_request_error', code: 'body_too_complex' });
    // Generous on purpose (a busy machine): it took about 24 s before the cap, a few ms after.
    expect(elapsed).toBeLessThan(2_000);
  });

  test('deep objects and very wide arrays are refused the same way', async () => {
    for (const text of ['{"a":'.repeat(5_000) + '1' + '}'.repeat(5_000), `[${Array.from({ length: 20_000 }, () => '0').join(',')}]`]) {
      const response = await post(text);
      expect(response.status).toBe(400);
      expect(((await response.json()) as Json).error.code).toBe('body_too_complex');
    }
  });

  test('within the limits a body is judged on its content as before', async () => {
    const deep = (levels: number): unknown => (levels === 0 ? 'x' : { n: deep(levels - 1) });
    const response = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa), { metadata: deep(30) }));
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'parameter_invalid', param: 'metadata.n' });
  });
});
