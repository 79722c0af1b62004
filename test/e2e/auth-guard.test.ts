import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Type } from '@sinclair/typebox';
import { Elysia } from 'elysia';
import { requestState } from '../../runtime/http';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, platformToken, type TestTenant } from '../helpers/auth';
import { authGuard, tenantOf } from '../../plugins/auth';

let t: TestApp;
let acme: TestTenant;

beforeAll(async () => {
  t = await createTestApp();
  // A plugin of "another team", exactly as they would write it.
  const other = new Elysia({ name: 'test:other-team' })
    .use(authGuard(t))
    .get('/v1/widgets', ({ request }) => ({ tenant: tenantOf(request), principal: requestState(request).principal }), {
      scopes: ['payments:read'],
    })
    .post('/v1/widgets', ({ body, request }) => ({ tenant: tenantOf(request), body }), {
      scopes: ['payments:write'],
      body: Type.Object({ amount: Type.Integer() }, { additionalProperties: false }),
    })
    .get('/v1/platform-thing', ({ request }) => ({ tenant: requestState(request).principal?.tenantId ?? null }), {
      scopes: ['platform:admin'],
    });
  // A second plugin using the guard too: the deduplicated guard must still lend it the macro.
  const third = new Elysia({ name: 'test:third-team' })
    .use(authGuard(t))
    .get('/v1/gadgets', ({ request }) => ({ tenant: tenantOf(request) }), { scopes: ['events:read'] });
  t.app.use(other).use(third);
  acme = await createTenant(t, { name: 'Acme' });
});
afterAll(() => t.close());

async function errorOf(response: Response) {
  return ((await response.json()) as { error: Record<string, string> }).error;
}

describe('authGuard', () => {
  test('no token: 401 token_missing with a bare Bearer challenge', async () => {
    const response = await t.request('GET', '/v1/widgets');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="nimbuspay"');
    expect(await errorOf(response)).toMatchObject({ type: 'authentication_error', code: 'token_missing' });
  });

  test('garbage token: 401 token_invalid with error="invalid_token"', async () => {
    const response = await t.request('GET', '/v1/widgets', { token: 'abc.def.ghi' });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="nimbuspay", error="invalid_token"');
    expect((await errorOf(response)).code).toBe('token_invalid');
  });

  test('a tenant token reaches its tenant; Nimbus-Tenant is ignored', async () => {
    const response = await t.request('GET', '/v1/widgets', { token: acme.token, headers: { 'nimbus-tenant': 'ten_other' } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { tenant: string; principal: { clientId: string } };
    expect(body.tenant).toBe(acme.tenantId);
    expect(body.principal.clientId).toBe(acme.clientId);
  });

  test('order: a bad token with a malformed body is 401, a good token with a malformed body is 400', async () => {
    expect((await t.request('POST', '/v1/widgets', { body: '{nope' })).status).toBe(401);
    const response = await t.request('POST', '/v1/widgets', { body: '{nope', token: acme.token });
    expect(response.status).toBe(400);
    expect((await errorOf(response)).code).toBe('body_not_json');
  });

  test('order: missing scope is 403 before validation', async () => {
    const reader = await acme.tokenWith(['payments:read']);
    const response = await t.request('POST', '/v1/widgets', { body: { amount: 'x' }, token: reader });
    expect(response.status).toBe(403);
    expect(await errorOf(response)).toMatchObject({ type: 'permission_error', code: 'scope_missing' });
  });

  test('a second plugin using the guard is guarded too', async () => {
    expect((await t.request('GET', '/v1/gadgets')).status).toBe(401);
    expect((await t.request('GET', '/v1/gadgets', { token: await acme.tokenWith(['payments:read']) })).status).toBe(403);
    expect((await t.request('GET', '/v1/gadgets', { token: acme.token })).status).toBe(200);
  });

  test('valid body passes through as JSON', async () => {
    const response = await t.request('POST', '/v1/widgets', { body: { amount: 5 }, token: acme.token });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ tenant: acme.tenantId, body: { amount: 5 } });
  });

  test('platform:support reads a tenant via Nimbus-Tenant, needs the header, never writes', async () => {
    const support = await platformToken(t, ['platform:support']);
    const missing = await t.request('GET', '/v1/widgets', { token: support });
    expect(missing.status).toBe(400);
    expect(await errorOf(missing)).toMatchObject({ code: 'parameter_missing', param: 'Nimbus-Tenant' });
    const ok = await t.request('GET', '/v1/widgets', { token: support, headers: { 'Nimbus-Tenant': acme.tenantId } });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { tenant: string }).tenant).toBe(acme.tenantId);
    const unknown = await t.request('GET', '/v1/widgets', { token: support, headers: { 'Nimbus-Tenant': 'ten_doesnotexist' } });
    expect(unknown.status).toBe(404);
    const write = await t.request('POST', '/v1/widgets', { token: support, body: { amount: 1 }, headers: { 'Nimbus-Tenant': acme.tenantId } });
    expect(write.status).toBe(403);
    expect((await errorOf(write)).code).toBe('scope_missing');
  });

  test('platform:admin reads no tenant data; tenant tokens reach no platform route', async () => {
    const admin = await platformToken(t, ['platform:admin']);
    expect((await t.request('GET', '/v1/widgets', { token: admin, headers: { 'Nimbus-Tenant': acme.tenantId } })).status).toBe(403);
    expect((await t.request('GET', '/v1/platform-thing', { token: admin })).status).toBe(200);
    expect((await t.request('GET', '/v1/platform-thing', { token: acme.token })).status).toBe(403);
  });
});
