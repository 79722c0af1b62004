import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, type TestTenant } from '../helpers/auth';
import { EVENT_TYPES } from '../../plugins/events/service';
import { EventTypeOrWildcard } from '../../webhooks/model';

let t: TestApp;
let strict: TestApp;
let acme: TestTenant;
let other: TestTenant;

beforeAll(async () => {
  t = await createTestApp();
  // The production posture: https only, public addresses only.
  strict = await createTestApp({ env: { NIMBUS_WEBHOOK_ALLOW_PRIVATE: 'false' }, database: t.database });
  acme = await createTenant(t);
  other = await createTenant(t);
});
afterAll(() => t.close());

async function json(response: Response) {
  return (await response.json()) as Record<string, any>;
}

function create(app: TestApp, token: string, body: unknown) {
  return app.request('POST', '/v1/webhook_endpoints', { token, body });
}

describe('webhook endpoints', () => {
  test('create answers 201 with a whsec_ secret of at least 24 random bytes, shown only then', async () => {
    const response = await create(t, acme.token, { url: 'https://hooks.example.com/nimbus', enabled_events: ['payment.succeeded'], description: 'Orders' });
    expect(response.status).toBe(201);
    const body = await json(response);
    expect(body).toMatchObject({
      object: 'webhook_endpoint',
      url: 'https://hooks.example.com/nimbus',
      enabled_events: ['payment.succeeded'],
      status: 'enabled',
      description: 'Orders',
    });
    expect(body.id).toMatch(/^we_[A-Za-z0-9]+$/);
    expect(body.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(body.secret.slice(6), 'base64').length).toBeGreaterThanOrEqual(24);
    expect(Date.parse(body.created_at)).not.toBeNaN();
    const fetched = await json(await t.request('GET', `/v1/webhook_endpoints/${body.id}`, { token: acme.token }));
    expect(fetched.secret).toBeUndefined();
    expect(fetched.id).toBe(body.id);
    const listed = await json(await t.request('GET', '/v1/webhook_endpoints', { token: acme.token }));
    expect(listed.object).toBe('list');
    expect(JSON.stringify(listed)).not.toContain(body.secret);
  });

  test('list is newest first and paginates', async () => {
    const tenant = await createTenant(t);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await json(await create(t, tenant.token, { url: `https://h${i}.example.com/`, enabled_events: ['*'] }))).id);
    const page = await json(await t.request('GET', '/v1/webhook_endpoints?limit=2', { token: tenant.token }));
    expect(page.data.map((row: { id: string }) => row.id)).toEqual([ids[2], ids[1]]);
    expect(page.has_more).toBe(true);
    const next = await json(await t.request('GET', `/v1/webhook_endpoints?limit=2&starting_after=${ids[1]}`, { token: tenant.token }));
    expect(next.data.map((row: { id: string }) => row.id)).toEqual([ids[0]]);
    expect(next.has_more).toBe(false);
    const since = await json(await t.request('GET', `/v1/webhook_endpoints?created_gte=${encodeURIComponent(page.data[1].created_at)}`, { token: tenant.token }));
    expect(since.data.map((row: { id: string }) => row.id)).toContain(ids[1]);
    const newer = await json(await t.request('GET', `/v1/webhook_endpoints?ending_before=${ids[0]}`, { token: tenant.token }));
    expect(newer.data.map((row: { id: string }) => row.id)).toEqual([ids[2], ids[1]]);
    const unknownCursor = await t.request('GET', '/v1/webhook_endpoints?starting_after=we_nope', { token: tenant.token });
    expect(unknownCursor.status).toBe(404);
    expect((await json(unknownCursor)).error.param).toBe('starting_after');
    const badTime = await t.request('GET', '/v1/webhook_endpoints?created_gte=yesterday', { token: tenant.token });
    expect(badTime.status).toBe(400);
    expect((await json(badTime)).error.param).toBe('created_gte');
    const bad = await t.request('GET', '/v1/webhook_endpoints?limit=0', { token: tenant.token });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.param).toBe('limit');
  });

  test('patch changes url, events, status and description; delete answers deleted: true', async () => {
    const { id } = await json(await create(t, acme.token, { url: 'https://a.example.com/', enabled_events: ['*'] }));
    const patched = await t.request('PATCH', `/v1/webhook_endpoints/${id}`, {
      token: acme.token,
      body: { url: 'https://b.example.com/x', enabled_events: ['refund.created', 'refund.failed'], status: 'disabled', description: null },
    });
    expect(patched.status).toBe(200);
    expect(await json(patched)).toMatchObject({ id, url: 'https://b.example.com/x', enabled_events: ['refund.created', 'refund.failed'], status: 'disabled', description: null });
    const deleted = await t.request('DELETE', `/v1/webhook_endpoints/${id}`, { token: acme.token });
    expect(deleted.status).toBe(200);
    expect(await json(deleted)).toEqual({ id, object: 'webhook_endpoint', deleted: true });
    expect((await t.request('GET', `/v1/webhook_endpoints/${id}`, { token: acme.token })).status).toBe(404);
    expect((await t.request('DELETE', `/v1/webhook_endpoints/${id}`, { token: acme.token })).status).toBe(404);
  });

  test('rotate_secret answers 200 with a new secret', async () => {
    const created = await json(await create(t, acme.token, { url: 'https://a.example.com/', enabled_events: ['*'] }));
    const rotated = await t.request('POST', `/v1/webhook_endpoints/${created.id}/rotate_secret`, { token: acme.token });
    expect(rotated.status).toBe(200);
    const body = await json(rotated);
    expect(body.secret).toMatch(/^whsec_/);
    expect(body.secret).not.toBe(created.secret);
    expect(body.object).toBe('webhook_endpoint');
  });

  test("another tenant's endpoint is 404 resource_missing", async () => {
    const { id } = await json(await create(t, acme.token, { url: 'https://a.example.com/', enabled_events: ['*'] }));
    for (const [method, path] of [
      ['GET', `/v1/webhook_endpoints/${id}`],
      ['PATCH', `/v1/webhook_endpoints/${id}`],
      ['DELETE', `/v1/webhook_endpoints/${id}`],
      ['POST', `/v1/webhook_endpoints/${id}/rotate_secret`],
      ['GET', `/v1/webhook_endpoints/${id}/deliveries`],
    ] as const) {
      const response = await t.request(method, path, { token: other.token, body: method === 'PATCH' ? { description: 'x' } : undefined });
      expect(response.status).toBe(404);
      expect((await json(response)).error.code).toBe('resource_missing');
    }
  });

  test('scopes: webhooks:read reads but cannot write; no token is 401', async () => {
    const reader = await acme.tokenWith(['webhooks:read']);
    expect((await t.request('GET', '/v1/webhook_endpoints', { token: reader })).status).toBe(200);
    const refused = await create(t, reader, { url: 'https://a.example.com/', enabled_events: ['*'] });
    expect(refused.status).toBe(403);
    expect((await json(refused)).error.code).toBe('scope_missing');
    const payments = await acme.tokenWith(['payments:read']);
    expect((await t.request('GET', '/v1/webhook_endpoints', { token: payments })).status).toBe(403);
    expect((await t.request('GET', '/v1/webhook_endpoints')).status).toBe(401);
  });

  const invalid: Array<[string, unknown, string, string]> = [
    ['missing url', { enabled_events: ['*'] }, 'parameter_missing', 'url'],
    ['missing enabled_events', { url: 'https://a.example.com/' }, 'parameter_missing', 'enabled_events'],
    ['unknown event type', { url: 'https://a.example.com/', enabled_events: ['payment.exploded'] }, 'parameter_invalid', 'enabled_events'],
    ['empty enabled_events', { url: 'https://a.example.com/', enabled_events: [] }, 'parameter_invalid', 'enabled_events'],
    ['unknown field', { url: 'https://a.example.com/', enabled_events: ['*'], secret: 'mine' }, 'parameter_unknown', 'secret'],
    ['not a URL', { url: 'not a url', enabled_events: ['*'] }, 'parameter_invalid', 'url'],
    ['ftp scheme', { url: 'ftp://a.example.com/', enabled_events: ['*'] }, 'parameter_invalid', 'url'],
    ['credentials in URL', { url: 'https://user:pw@a.example.com/', enabled_events: ['*'] }, 'parameter_invalid', 'url'],
  ];
  test.each(invalid)('400 for %s', async (_name, body, code, param) => {
    const response = await create(t, acme.token, body);
    expect(response.status).toBe(400);
    expect((await json(response)).error).toMatchObject({ type: 'invalid_request_error', code, param });
  });

  test('EventTypeOrWildcard lists exactly the event types and *', () => {
    expect((EventTypeOrWildcard.anyOf as Array<{ const: string }>).map((literal) => literal.const).sort()).toEqual([...EVENT_TYPES, '*'].sort());
  });
});

describe('SSRF guard at creation (NIMBUS_WEBHOOK_ALLOW_PRIVATE=false)', () => {
  const blocked: Array<[string, string]> = [
    ['loopback', 'https://127.0.0.1/hook'],
    ['loopback by name', 'https://localhost/hook'],
    ['RFC 1918 10/8', 'https://10.0.0.5/hook'],
    ['RFC 1918 172.16/12', 'https://172.20.1.1/hook'],
    ['RFC 1918 192.168/16', 'https://192.168.1.10/hook'],
    ['link-local / metadata', 'https://169.254.169.254/latest/meta-data'],
    ['CGNAT', 'https://100.64.0.1/hook'],
    ['0.0.0.0/8', 'https://0.0.0.0/hook'],
    ['IPv6 loopback', 'https://[::1]/hook'],
    ['IPv6 unique-local', 'https://[fd00:ec2::254]/hook'],
    ['IPv6 link-local', 'https://[fe80::1]/hook'],
    ['IPv4-mapped IPv6', 'https://[::ffff:127.0.0.1]/hook'],
    ['decimal IPv4 spelling of loopback', 'https://2130706433/hook'],
  ];
  test.each(blocked)('%s is refused with 400 parameter_invalid on url', async (_name, url) => {
    const response = await create(strict, acme.token, { url, enabled_events: ['*'] });
    expect(response.status).toBe(400);
    const { error } = await json(response);
    expect(error).toMatchObject({ type: 'invalid_request_error', code: 'parameter_invalid', param: 'url' });
    expect(error.message).toMatch(/address|host name/);
  });

  test('http:// is refused; a public https address is accepted', async () => {
    const http = await create(strict, acme.token, { url: 'http://93.184.216.34/hook', enabled_events: ['*'] });
    expect(http.status).toBe(400);
    expect((await json(http)).error.message).toContain('https');
    expect((await create(strict, acme.token, { url: 'https://93.184.216.34/hook', enabled_events: ['*'] })).status).toBe(201);
  });

  test('patching the url is checked too', async () => {
    const { id } = await json(await create(strict, acme.token, { url: 'https://93.184.216.34/hook', enabled_events: ['*'] }));
    const response = await strict.request('PATCH', `/v1/webhook_endpoints/${id}`, { token: acme.token, body: { url: 'https://10.1.1.1/' } });
    expect(response.status).toBe(400);
    expect((await json(response)).error.param).toBe('url');
  });
});
