import { schema } from '../../db';
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, platformToken, type TestTenant } from '../helpers/auth';

/**
 * POST /oauth/token (RFC 6749 sections 4.4 and 5.2). Each describe block gets its own
 * app over one database, because failed authentications are rate limited per app
 * process and the in-process requests all share one "source address".
 */
let base: TestApp;
let acme: TestTenant;

beforeAll(async () => {
  base = await createTestApp();
  acme = await createTenant(base, { name: 'Acme' });
});
afterAll(() => base.close());

/** A new app with an empty failure budget (the counters live in the database, shared by every replica). */
async function freshApp(): Promise<TestApp> {
  await base.database.system((tx) => tx.delete(schema.authRateLimits));
  return createTestApp({ database: base.database });
}

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

function post(t: TestApp, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return t.app.handle(
    new Request('http://localhost/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body,
    }),
  );
}

function form(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
}

describe('issuing tokens', () => {
  test('HTTP Basic, form-encoded: 200 with the RFC 6749 body and Cache-Control: no-store', async () => {
    const response = await post(base, form({ grant_type: 'client_credentials' }), { authorization: basic(acme.clientId, acme.clientSecret) });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
    expect(String(body.scope).split(' ').sort()).toEqual(
      ['clients:write', 'events:read', 'payments:read', 'payments:write', 'webhooks:read', 'webhooks:write'],
    );
    const claims = claimsOf(String(body.access_token));
    expect(claims).toMatchObject({ iss: base.config.issuer, aud: 'nimbuspay', sub: acme.clientId, tid: acme.tenantId, scope: body.scope });
    expect(typeof claims.jti).toBe('string');
    expect(Number(claims.exp) - Number(claims.iat)).toBe(900);
  });

  test('body fields, form-encoded', async () => {
    const response = await post(base, form({ grant_type: 'client_credentials', client_id: acme.clientId, client_secret: acme.clientSecret }));
    expect(response.status).toBe(200);
  });

  test('body fields, JSON', async () => {
    const response = await post(
      base,
      JSON.stringify({ grant_type: 'client_credentials', client_id: acme.clientId, client_secret: acme.clientSecret }),
      { 'content-type': 'application/json' },
    );
    expect(response.status).toBe(200);
  });

  test('HTTP Basic, JSON body', async () => {
    const response = await post(base, JSON.stringify({ grant_type: 'client_credentials', scope: 'payments:read' }), {
      'content-type': 'application/json',
      authorization: basic(acme.clientId, acme.clientSecret),
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { scope: string }).scope).toBe('payments:read');
  });

  test('scope narrows the token to a subset', async () => {
    const response = await post(base, form({ grant_type: 'client_credentials', scope: 'payments:read events:read' }), {
      authorization: basic(acme.clientId, acme.clientSecret),
    });
    const body = (await response.json()) as { scope: string; access_token: string };
    expect(body.scope).toBe('payments:read events:read');
    expect(claimsOf(body.access_token).scope).toBe('payments:read events:read');
  });

  test('platform tokens carry no tid', async () => {
    expect(claimsOf(await platformToken(base, ['platform:admin'])).tid).toBeUndefined();
  });
});

describe('RFC 6749 section 5.2 errors', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await freshApp();
  });

  async function expectError(response: Response, status: number, error: string) {
    expect(response.status).toBe(status);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.error).toBe(error);
    expect(typeof body.error_description).toBe('string');
    return response;
  }

  const auth = () => ({ authorization: basic(acme.clientId, acme.clientSecret) });

  test('missing grant_type: invalid_request', async () => {
    await expectError(await post(t, form({}), auth()), 400, 'invalid_request');
  });

  test('another grant type: unsupported_grant_type', async () => {
    await expectError(await post(t, form({ grant_type: 'password', username: 'a', password: 'b' }), auth()), 400, 'unsupported_grant_type');
  });

  test('a repeated parameter: invalid_request', async () => {
    await expectError(await post(t, 'grant_type=client_credentials&grant_type=client_credentials', auth()), 400, 'invalid_request');
  });

  test('malformed JSON or a non-string value: invalid_request', async () => {
    await expectError(await post(t, '{"grant_type":', { ...auth(), 'content-type': 'application/json' }), 400, 'invalid_request');
    await expectError(await post(t, '{"grant_type":1}', { ...auth(), 'content-type': 'application/json' }), 400, 'invalid_request');
  });

  test('two client authentication methods at once: invalid_request', async () => {
    const body = form({ grant_type: 'client_credentials', client_id: acme.clientId, client_secret: acme.clientSecret });
    await expectError(await post(t, body, auth()), 400, 'invalid_request');
  });

  test('a scope the client does not hold: invalid_scope', async () => {
    await expectError(await post(t, form({ grant_type: 'client_credentials', scope: 'platform:admin' }), auth()), 400, 'invalid_scope');
    await expectError(await post(t, form({ grant_type: 'client_credentials', scope: 'payments:read bogus' }), auth()), 400, 'invalid_scope');
  });

  test('no client authentication: invalid_client, 401 with WWW-Authenticate: Basic', async () => {
    const response = await expectError(await post(t, form({ grant_type: 'client_credentials' })), 401, 'invalid_client');
    expect(response.headers.get('www-authenticate')).toStartWith('Basic');
  });

  test('wrong secret, unknown client, malformed Basic: invalid_client', async () => {
    for (const headers of [
      { authorization: basic(acme.clientId, 'cs_wrong') },
      { authorization: basic('cli_doesnotexist', acme.clientSecret) },
      { authorization: 'Basic !!!' },
    ]) {
      const response = await expectError(await post(t, form({ grant_type: 'client_credentials' }), headers), 401, 'invalid_client');
      expect(response.headers.get('www-authenticate')).toStartWith('Basic');
    }
  });
});

describe('rate limiting failed client authentication', () => {
  test('the 11th failure for one client within a minute is 429 with Retry-After, even with the right secret', async () => {
    const t = await freshApp();
    const wrong = form({ grant_type: 'client_credentials', client_id: acme.clientId, client_secret: 'cs_wrong' });
    for (let i = 0; i < 10; i++) expect((await post(t, wrong)).status).toBe(401);
    const blocked = await post(t, wrong);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await blocked.json()) as { error: string }).error).toBe('rate_limited');
    const right = await post(t, form({ grant_type: 'client_credentials', client_id: acme.clientId, client_secret: acme.clientSecret }));
    expect(right.status).toBe(429);
  });

  test('failures across many client ids from one address are limited too', async () => {
    const t = await freshApp();
    for (let i = 0; i < 10; i++) {
      expect((await post(t, form({ grant_type: 'client_credentials' }), { authorization: basic(`cli_guess${i}`, 'x') })).status).toBe(401);
    }
    expect((await post(t, form({ grant_type: 'client_credentials' }), { authorization: basic('cli_guess99', 'x') })).status).toBe(429);
  });
});

describe('credential lifecycle', () => {
  test('rotate_secret: the old secret stops at once, the new one works', async () => {
    const t = await freshApp();
    const created = await t.request('POST', '/v1/clients', { token: acme.token, body: { name: 'rotating', scopes: ['payments:read'] } });
    const client = (await created.json()) as { id: string; secret: string };
    const rotated = await t.request('POST', `/v1/clients/${client.id}/rotate_secret`, { token: acme.token });
    expect(rotated.status).toBe(200);
    const next = (await rotated.json()) as { id: string; secret: string };
    expect(next.secret).not.toBe(client.secret);
    expect((await post(t, form({ grant_type: 'client_credentials' }), { authorization: basic(client.id, client.secret) })).status).toBe(401);
    expect((await post(t, form({ grant_type: 'client_credentials' }), { authorization: basic(client.id, next.secret) })).status).toBe(200);
  });

  test('a revoked client gets no new token', async () => {
    const t = await freshApp();
    const created = await t.request('POST', '/v1/clients', { token: acme.token, body: { name: 'doomed', scopes: ['payments:read'] } });
    const client = (await created.json()) as { id: string; secret: string };
    expect((await t.request('DELETE', `/v1/clients/${client.id}`, { token: acme.token })).status).toBe(200);
    const response = await post(t, form({ grant_type: 'client_credentials' }), { authorization: basic(client.id, client.secret) });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_client');
  });
});
