import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Type } from '@sinclair/typebox';
import { Elysia } from 'elysia';
import nimbusConfig from '../../nimbus.config';
import { Nullable } from '../../plugins/payments/model';
import { errorResponses } from '../../runtime/http/schemas';
import { definePlugin } from '../../runtime/plugin';
import { createTestApp, type TestApp } from '../helpers/app';
import { OpenApiContract, type Violation, violationTable } from '../helpers/openapi-contract';
import { divertViolations, flushObserved, ledger, strictContract } from '../helpers/openapi-observer';
import { createTenant } from '../helpers/auth';
import { call, card, CARDS, type Json, paymentBody } from '../helpers/payments';
import { freePort } from '../helpers/process';

/**
 * The response validator of issue 17 (test/helpers/openapi-contract.ts): it must catch
 * what it is there to catch. Every other end-to-end test runs under it; here it is
 * pointed at schemas broken on purpose, and its violations are diverted from the run's
 * ledger so they do not fail the run.
 */

const REASONS = [Type.Literal('requested_by_customer'), Type.Literal('duplicate'), Type.Literal('fraudulent')];

/**
 * Routes whose TypeBox schemas look right to Elysia (it validates the answers and lets
 * them through) while the document generated from them says otherwise: the kind of
 * drift a strict generated client trips over.
 */
const probe = definePlugin({
  name: 'contract-probe',
  routes: () =>
    new Elysia({ name: 'contract-probe' })
      // The bug the issue started from: a nullable enum written as a nested union. TypeBox
      // accepts null; the document says `type: [string, null]` with an enum without null.
      .get('/v1/contract_probe/nested_nullable', () => ({ reason: null }), {
        response: { 200: Type.Object({ reason: Type.Union([Type.Union(REASONS), Type.Null()]) }), ...errorResponses([]) },
        detail: { summary: 'Probe: a nullable enum written as a nested union', security: [] },
      })
      // The same field with the fix (plugins/payments/model.ts Nullable): null is one more member.
      .get('/v1/contract_probe/flat_nullable', () => ({ reason: null }), {
        response: { 200: Type.Object({ reason: Nullable(Type.Union(REASONS)) }), ...errorResponses([]) },
        detail: { summary: 'Probe: a nullable enum as one flat union', security: [] },
      })
      // A Response object is not checked by Elysia: a body that breaks its schema outright.
      .get('/v1/contract_probe/wrong_type', () => Response.json({ amount: '2000' }), {
        response: { 200: Type.Object({ amount: Type.Integer() }), ...errorResponses([]) },
        detail: { summary: 'Probe: an amount sent as a string', security: [] },
      })
      // A status no response of the operation documents.
      .get('/v1/contract_probe/teapot', ({ set }) => {
        set.status = 418;
        return { amount: 1 };
      }, {
        response: { 200: Type.Object({ amount: Type.Integer() }), ...errorResponses([]) },
        detail: { summary: 'Probe: an undocumented status', security: [] },
      })
      // Retry-After on a response that does not declare it.
      .get('/v1/contract_probe/retry_after', () => Response.json({ amount: 1 }, { headers: { 'Retry-After': '5' } }), {
        response: { 200: Type.Object({ amount: Type.Integer() }), ...errorResponses([]) },
        detail: { summary: 'Probe: an undeclared Retry-After', security: [] },
      }),
});

let t: TestApp;
let sink: Violation[];
beforeAll(async () => {
  t = await createTestApp({ definition: { plugins: [...nimbusConfig.plugins, probe] } });
  sink = divertViolations(t.app);
});
afterAll(() => t.close());

/** The violations one probe request caused (all diverted to `sink`). */
async function violationsOf(path: string): Promise<Violation[]> {
  sink.length = 0;
  const response = await t.request('GET', path);
  await response.arrayBuffer();
  await flushObserved();
  return [...sink];
}

describe('every in-process response is checked against the document the app serves', () => {
  test('a nullable enum written as a nested union: null breaks the generated schema', async () => {
    const [violation, ...others] = await violationsOf('/v1/contract_probe/nested_nullable');
    expect(others).toEqual([]);
    expect(violation).toMatchObject({ operation: 'GET /v1/contract_probe/nested_nullable', status: 200, kind: 'body' });
    expect(violation!.message).toContain('/reason must be equal to one of the allowed values');
    expect(violation!.requestId).toMatch(/^req_/);
    expect(violation!.where).toContain('test/e2e/openapi-contract.test.ts');
  });

  test('the same enum through Nullable: null is documented, nothing to report', async () => {
    expect(await violationsOf('/v1/contract_probe/flat_nullable')).toEqual([]);
  });

  test('a body of the wrong type', async () => {
    const [violation] = await violationsOf('/v1/contract_probe/wrong_type');
    expect(violation).toMatchObject({ kind: 'body', status: 200 });
    expect(violation!.message).toContain('/amount must be integer');
  });

  test('an undocumented status', async () => {
    const [violation] = await violationsOf('/v1/contract_probe/teapot');
    expect(violation).toMatchObject({ kind: 'status', status: 418 });
    expect(violation!.message).toContain('status 418 is not documented');
  });

  test('Retry-After sent on a response that does not declare it', async () => {
    const [violation] = await violationsOf('/v1/contract_probe/retry_after');
    expect(violation).toMatchObject({ kind: 'header', status: 200 });
  });

  test("the issue's example: a refund created without a reason answers `reason: null`, which the document now allows", async () => {
    const acme = await createTenant(t);
    const payment = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa)));
    sink.length = 0;
    const refund = await call(t, 'POST', '/v1/refunds', acme.token, { payment: payment.body.id });
    expect([refund.status, refund.body.reason]).toEqual([201, null]);
    await flushObserved();
    expect(sink).toEqual([]);
    const schema = (await (await t.request('GET', '/docs/json')).json() as Json).paths['/v1/refunds'].post.responses['201'].content['application/json'].schema;
    expect(schema.properties.reason.anyOf).toContainEqual({ type: 'null' });
  });

  test('the table names operation, status, count, first error with its path, a request id and where', async () => {
    await violationsOf('/v1/contract_probe/nested_nullable');
    const table = violationTable([...sink, ...sink]);
    expect(table).toContain('| operation | status | count | first error | request id | first seen at |');
    expect(table).toMatch(/\| GET \/v1\/contract_probe\/nested_nullable \| 200 \| 2 \| body: \/reason must be equal/);
  });
});

describe('responses over real sockets are checked too', () => {
  test('app.listen: the fetch observer reads the server\'s own document', async () => {
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const socketSink = divertViolations(origin);
    t.app.listen({ hostname: '127.0.0.1', port });
    try {
      const checkedBefore = ledger.checked;
      const response = await fetch(`${origin}/v1/contract_probe/wrong_type`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ amount: '2000' }); // the test still reads its body
      await flushObserved();
      expect(ledger.checked).toBeGreaterThan(checkedBefore);
      expect(socketSink.map((violation) => [violation.operation, violation.kind])).toEqual([['GET /v1/contract_probe/wrong_type', 'body']]);
    } finally {
      await t.app.stop(true);
    }
  });
});

describe('the contract itself', () => {
  const envelope = { type: 'object', required: ['error'], properties: { error: { type: 'object' } } };
  const documentOf = (version: string, schema: object) => ({
    openapi: version,
    info: { title: 't', version: '1' },
    paths: {
      '/v1/things/{id}': {
        get: {
          responses: {
            200: { description: 'ok', content: { 'application/json': { schema } } },
            '4XX': { description: 'client error', content: { 'application/json': { schema: envelope } } },
            503: { description: 'unavailable', headers: { 'Retry-After': { schema: { type: 'integer' } } }, content: { 'application/json': { schema: envelope } } },
          },
        },
      },
      '/v1/things/special': { get: { responses: { default: { description: 'anything', content: { 'application/json': { schema: envelope } } } } } },
    },
  });
  const answer = (contract: OpenApiContract, status: number, body: unknown, path = '/v1/things/th_1', headers: Record<string, string> = {}) =>
    contract.check({
      method: 'GET',
      url: `http://localhost${path}`,
      status,
      headers: new Headers({ 'content-type': 'application/json', 'x-request-id': 'req_test', ...headers }),
      body: JSON.stringify(body),
    });

  test('OpenAPI 3.0: nullable, and an enum must list null to allow it (3.0.3)', () => {
    const contract = new OpenApiContract(
      documentOf('3.0.3', {
        type: 'object',
        properties: { note: { type: 'string', nullable: true }, reason: { type: 'string', enum: ['a', 'b'], nullable: true }, count: { type: 'integer' } },
      }),
    );
    expect(contract.version).toBe('3.0');
    expect(answer(contract, 200, { note: null, count: 1 })).toEqual([]);
    expect(answer(contract, 200, { reason: null })![0]!.message).toContain('/reason must be equal to one of the allowed values');
    expect(answer(contract, 200, { count: null })![0]!.message).toContain('/count must be integer');
  });

  test('OpenAPI 3.1: type arrays', () => {
    const contract = new OpenApiContract(documentOf('3.1.0', { type: 'object', properties: { note: { type: ['string', 'null'] }, count: { type: 'integer' } } }));
    expect(contract.version).toBe('3.1');
    expect(answer(contract, 200, { note: null })).toEqual([]);
    expect(answer(contract, 200, { count: null })![0]!.kind).toBe('body');
  });

  test('the response by exact status, else its range, else default; otherwise undocumented', () => {
    const contract = new OpenApiContract(documentOf('3.1.0', { type: 'object' }));
    expect(answer(contract, 404, { error: {} })).toEqual([]); // 4XX
    expect(answer(contract, 404, { nope: true })![0]!.kind).toBe('body');
    expect(answer(contract, 500, { error: {} })![0]!.message).toContain('status 500 is not documented (documented: 200, 503, 4XX)');
    expect(answer(contract, 599, { error: {} }, '/v1/things/special')).toEqual([]); // default; literal path wins over {id}
    expect(answer(contract, 200, {}, '/v1/unknown')).toBeUndefined(); // no operation: not this contract's business
  });

  test('Retry-After must be declared where it is sent', () => {
    const contract = new OpenApiContract(documentOf('3.1.0', { type: 'object' }));
    expect(answer(contract, 503, { error: {} }, undefined, { 'retry-after': '1' })).toEqual([]);
    expect(answer(contract, 429, { error: {} }, undefined, { 'retry-after': '1' })![0]!.kind).toBe('header');
  });

  test('a media type the response does not document', () => {
    const contract = new OpenApiContract(documentOf('3.1.0', { type: 'object' }));
    const violations = contract.check({ method: 'GET', url: 'http://localhost/v1/things/th_1', status: 200, headers: new Headers({ 'content-type': 'text/html' }) });
    expect(violations![0]).toMatchObject({ kind: 'content-type' });
  });

  test('violations fail the run in CI or when asked to (NIMBUS_OPENAPI_STRICT=1), never with NIMBUS_OPENAPI_STRICT=0', () => {
    expect(strictContract({})).toBe(false);
    expect(strictContract({ CI: 'true' })).toBe(true);
    expect(strictContract({ NIMBUS_OPENAPI_STRICT: '1' })).toBe(true);
    expect(strictContract({ NIMBUS_OPENAPI_STRICT: '0', CI: 'true' })).toBe(false);
  });
});
