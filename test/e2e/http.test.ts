import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Type } from '@sinclair/typebox';
import { createTestApp, type TestApp } from '../helpers/app';
import { jsonBody } from '../../runtime/http/body';
import { errorResponses } from '../../runtime/http/schemas';

let t: TestApp;

const Body = Type.Object(
  {
    amount: Type.Integer({ minimum: 1, maximum: 99999999 }),
    method: Type.Optional(
      Type.Union([
        Type.Object({ type: Type.Literal('card'), card: Type.Object({ number: Type.String() }, { additionalProperties: false }) }, { additionalProperties: false }),
        Type.Object({ type: Type.Literal('bank'), bank: Type.Object({ iban: Type.String() }, { additionalProperties: false }) }, { additionalProperties: false }),
      ]),
    ),
  },
  { additionalProperties: false },
);

beforeAll(async () => {
  t = await createTestApp();
  // Routes that exist only in this test, to exercise the cross-cutting behaviour. They
  // are in this app's OpenAPI document too, so they declare what they answer.
  t.app
    .post('/v1/echo', ({ body }) => body, {
      body: Body,
      response: { 200: Body, ...errorResponses([400, 413]) },
      transform(context) {
        context.body = jsonBody(context.body) as never;
      },
    })
    .get(
      '/v1/throws',
      () => {
        throw new Error('relation "payments" does not exist at SELECT * FROM secrets');
      },
      // Cast: a response map of error statuses only is too deep for Elysia's route types.
      { response: errorResponses([]) as never },
    );
});
afterAll(() => t.close());

async function errorOf(response: Response) {
  const body = (await response.json()) as { error: Record<string, string> };
  return body.error;
}

describe('request id', () => {
  test('a well-formed incoming X-Request-Id is echoed', async () => {
    const response = await t.request('GET', '/health/live', { headers: { 'x-request-id': 'abc.DEF-123_x' } });
    expect(response.headers.get('x-request-id')).toBe('abc.DEF-123_x');
  });

  test('a malformed or oversized one is replaced by a generated id', async () => {
    for (const bad of ['has space', 'x'.repeat(129), 'semi;colon']) {
      const response = await t.request('GET', '/health/live', { headers: { 'x-request-id': bad } });
      expect(response.headers.get('x-request-id')).toMatch(/^req_[A-Za-z0-9_-]+$/);
    }
  });

  test('error bodies carry the same request id as the header', async () => {
    const response = await t.request('GET', '/v1/nowhere', { headers: { 'x-request-id': 'trace-42' } });
    expect(response.headers.get('x-request-id')).toBe('trace-42');
    expect((await errorOf(response)).request_id).toBe('trace-42');
  });
});

describe('error envelope', () => {
  test('unknown route: 404 resource_missing', async () => {
    const response = await t.request('GET', '/v1/nowhere');
    expect(response.status).toBe(404);
    const error = await errorOf(response);
    expect(error.type).toBe('invalid_request_error');
    expect(error.code).toBe('resource_missing');
  });

  test('malformed JSON: 400 body_not_json', async () => {
    const response = await t.request('POST', '/v1/echo', { body: '{"amount": ' });
    expect(response.status).toBe(400);
    expect((await errorOf(response)).code).toBe('body_not_json');
  });

  test('a body over 64 KiB: 413 body_too_large', async () => {
    const response = await t.request('POST', '/v1/echo', { body: JSON.stringify({ amount: 1, pad: 'x'.repeat(70 * 1024) }) });
    expect(response.status).toBe(413);
    expect(await errorOf(response)).toMatchObject({ type: 'invalid_request_error', code: 'body_too_large' });
  });

  test('a chunked body over 64 KiB without Content-Length is refused too', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(16 * 1024));
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 6; i++) controller.enqueue(chunk);
        controller.close();
      },
    });
    const response = await t.app.handle(
      new Request('http://localhost/v1/echo', { method: 'POST', body: stream, headers: { 'content-type': 'application/json' } }),
    );
    expect(response.status).toBe(413);
  });

  test('a route that throws: 500 internal_error without stack or SQL', async () => {
    const response = await t.request('GET', '/v1/throws');
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(JSON.parse(text).error).toMatchObject({ type: 'api_error', code: 'internal_error' });
    expect(text).not.toContain('SELECT');
    expect(text).not.toContain('relation');
    expect(text).not.toContain('at ');
  });
});

describe('validation', () => {
  const cases: Array<[string, unknown, string, string]> = [
    ['missing field', {}, 'parameter_missing', 'amount'],
    ['unknown field', { amount: 1, extra: true }, 'parameter_unknown', 'extra'],
    ['numeric string is not an integer', { amount: '2000' }, 'parameter_invalid', 'amount'],
    ['float', { amount: 10.5 }, 'parameter_invalid', 'amount'],
    ['huge value', { amount: 1e20 }, 'parameter_invalid', 'amount'],
    ['nested unknown field', { amount: 1, method: { type: 'card', card: { number: '4', cvc: '1' } } }, 'parameter_unknown', 'method.card.cvc'],
    ['nested wrong type', { amount: 1, method: { type: 'card', card: { number: 4 } } }, 'parameter_invalid', 'method.card.number'],
    ['nested missing', { amount: 1, method: { type: 'bank', bank: {} } }, 'parameter_missing', 'method.bank.iban'],
    ['unknown discriminator', { amount: 1, method: { type: 'cash' } }, 'parameter_invalid', 'method.type'],
    ['array instead of object', [1, 2], 'parameter_invalid', 'body'],
  ];
  test.each(cases)('%s', async (_name, body, code, param) => {
    const response = await t.request('POST', '/v1/echo', { body });
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatchObject({ type: 'invalid_request_error', code, param });
  });

  test('a valid body passes through unchanged', async () => {
    const body = { amount: 5, method: { type: 'card', card: { number: '4242' } } };
    const response = await t.request('POST', '/v1/echo', { body });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(body);
  });
});
