import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { TENANT_SCOPES } from '../../plugins/auth/model';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, platformAdmin, platformToken, type TestTenant } from '../helpers/auth';

let t: TestApp;
let acme: TestTenant;
let admin: string;
let support: string;
/** Every secret and token this file sees, to prove none reaches a log line. */
const secrets: string[] = [];

beforeAll(async () => {
  t = await createTestApp();
  acme = await createTenant(t, { name: 'Acme' });
  admin = await platformToken(t, ['platform:admin']);
  support = await platformToken(t, ['platform:support']);
  secrets.push(acme.clientSecret, acme.token, admin, support, (await platformAdmin(t)).clientSecret);
});
afterAll(() => t.close());

async function json<T = Record<string, any>>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

describe('tenants', () => {
  test('POST /v1/tenants: 201 with the first client, which holds every tenant scope and shows its secret once', async () => {
    const response = await t.request('POST', '/v1/tenants', { token: admin, body: { name: 'Globex', metadata: { plan: 'gold' } } });
    expect(response.status).toBe(201);
    const tenant = await json(response);
    secrets.push(tenant.client.secret);
    expect(tenant).toMatchObject({ object: 'tenant', name: 'Globex', metadata: { plan: 'gold' } });
    expect(tenant.id).toMatch(/^ten_[A-Za-z0-9]+$/);
    expect(tenant.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(tenant.client).toMatchObject({ object: 'client' });
    expect(tenant.client.id).toMatch(/^cli_/);
    expect(tenant.client.secret.length).toBeGreaterThan(30);
    expect([...tenant.client.scopes].sort()).toEqual([...TENANT_SCOPES].sort());
  });

  test.each([
    [{}, 'parameter_missing', 'name'],
    [{ name: 'x', extra: 1 }, 'parameter_unknown', 'extra'],
    [{ name: 5 }, 'parameter_invalid', 'name'],
    [{ name: 'x', metadata: { k: 1 } }, 'parameter_invalid', 'metadata.k'],
    [{ name: 'x', metadata: { ['k'.repeat(41)]: 'v' } }, 'parameter_invalid', `metadata.${'k'.repeat(41)}`],
  ])('POST /v1/tenants %p: 400 %s', async (body, code, param) => {
    const response = await t.request('POST', '/v1/tenants', { token: admin, body });
    expect(response.status).toBe(400);
    expect((await json(response)).error).toMatchObject({ code, param });
  });

  test('GET /v1/tenants and /v1/tenants/:id for platform:admin and platform:support; no secrets', async () => {
    for (const token of [admin, support]) {
      const list = await t.request('GET', '/v1/tenants', { token });
      expect(list.status).toBe(200);
      const text = await list.text();
      expect(text).not.toContain('secret');
      const body = JSON.parse(text);
      expect(body.object).toBe('list');
      expect(body.data.map((tenant: { id: string }) => tenant.id)).toContain(acme.tenantId);
      const one = await t.request('GET', `/v1/tenants/${acme.tenantId}`, { token });
      expect(await json(one)).toMatchObject({ id: acme.tenantId, object: 'tenant', name: 'Acme' });
    }
    const missing = await t.request('GET', '/v1/tenants/ten_nope', { token: admin });
    expect(missing.status).toBe(404);
    expect((await json(missing)).error.code).toBe('resource_missing');
  });

  test('lists page newest first with limit, starting_after and ending_before', async () => {
    for (let i = 0; i < 3; i++) await t.request('POST', '/v1/tenants', { token: admin, body: { name: `Page ${i}` } });
    const all = (await json(await t.request('GET', '/v1/tenants?limit=100', { token: admin }))).data.map((x: { id: string }) => x.id);
    const first = await json(await t.request('GET', '/v1/tenants?limit=2', { token: admin }));
    expect(first.data.map((x: { id: string }) => x.id)).toEqual(all.slice(0, 2));
    expect(first.has_more).toBe(true);
    const second = await json(await t.request('GET', `/v1/tenants?limit=2&starting_after=${all[1]}`, { token: admin }));
    expect(second.data.map((x: { id: string }) => x.id)).toEqual(all.slice(2, 4));
    const back = await json(await t.request('GET', `/v1/tenants?limit=2&ending_before=${all[2]}`, { token: admin }));
    expect(back.data.map((x: { id: string }) => x.id)).toEqual(all.slice(0, 2));
    expect((await t.request('GET', '/v1/tenants?limit=0', { token: admin })).status).toBe(400);
    expect((await t.request('GET', '/v1/tenants?limit=101', { token: admin })).status).toBe(400);
    const both = await t.request('GET', `/v1/tenants?starting_after=${all[0]}&ending_before=${all[1]}`, { token: admin });
    expect(both.status).toBe(400);
  });
});

describe('clients', () => {
  test('POST /v1/clients: 201 with the secret; listing never shows it', async () => {
    const response = await t.request('POST', '/v1/clients', { token: acme.token, body: { name: 'reporting', scopes: ['payments:read', 'events:read'] } });
    expect(response.status).toBe(201);
    const client = await json(response);
    secrets.push(client.secret);
    expect(client).toMatchObject({ object: 'client', name: 'reporting', scopes: ['payments:read', 'events:read'] });
    const list = await t.request('GET', '/v1/clients', { token: acme.token });
    const text = await list.text();
    expect(text).toContain(client.id);
    expect(text).not.toContain('secret');
  });

  test('tenant clients cannot hold platform or unknown scopes: 400 parameter_invalid param scopes', async () => {
    for (const scopes of [['platform:admin'], ['payments:read', 'platform:support'], ['payments:everything']]) {
      const response = await t.request('POST', '/v1/clients', { token: acme.token, body: { name: 'x', scopes } });
      expect(response.status).toBe(400);
      expect((await json(response)).error).toMatchObject({ code: 'parameter_invalid', param: 'scopes' });
    }
  });

  test('support reads clients with Nimbus-Tenant, never without it, never writes', async () => {
    const read = await t.request('GET', '/v1/clients', { token: support, headers: { 'Nimbus-Tenant': acme.tenantId } });
    expect(read.status).toBe(200);
    const noHeader = await t.request('GET', '/v1/clients', { token: support });
    expect(noHeader.status).toBe(400);
    expect((await json(noHeader)).error).toMatchObject({ code: 'parameter_missing', param: 'Nimbus-Tenant' });
    const write = await t.request('POST', '/v1/clients', {
      token: support,
      headers: { 'Nimbus-Tenant': acme.tenantId },
      body: { name: 'x', scopes: ['payments:read'] },
    });
    expect(write.status).toBe(403);
  });

  test('revoke: the client leaves the list; revoking again is 404', async () => {
    const created = await json(await t.request('POST', '/v1/clients', { token: acme.token, body: { name: 'temp', scopes: ['payments:read'] } }));
    secrets.push(created.secret);
    const revoked = await t.request('DELETE', `/v1/clients/${created.id}`, { token: acme.token });
    expect(await json(revoked)).toEqual({ id: created.id, object: 'client', deleted: true });
    expect(await (await t.request('GET', '/v1/clients?limit=100', { token: acme.token })).text()).not.toContain(created.id);
    expect((await t.request('DELETE', `/v1/clients/${created.id}`, { token: acme.token })).status).toBe(404);
    expect((await t.request('POST', `/v1/clients/${created.id}/rotate_secret`, { token: acme.token })).status).toBe(404);
  });
});

describe('audit trail', () => {
  test('a mutating request is recorded with who, what, when, request id and outcome', async () => {
    const response = await t.request('POST', '/v1/clients', {
      token: acme.token,
      headers: { 'x-request-id': 'audit-test-1' },
      body: { name: 'audited', scopes: ['payments:read'] },
    });
    const client = await json(response);
    secrets.push(client.secret);
    const events = await json(await t.request('GET', '/v1/audit_events', { token: acme.token }));
    const event = events.data.find((candidate: { request_id: string }) => candidate.request_id === 'audit-test-1');
    expect(event).toMatchObject({
      object: 'audit_event',
      client: acme.clientId,
      tenant: acme.tenantId,
      action: 'POST /v1/clients',
      resource: client.id,
      outcome: 'succeeded',
      status: 201,
    });
    expect(event.id).toMatch(/^aud_/);
  });

  test('refused writes are recorded as failed; tenant creation is recorded on the new tenant', async () => {
    const reader = await acme.tokenWith(['payments:read']);
    await t.request('POST', '/v1/clients', { token: reader, headers: { 'x-request-id': 'audit-denied' }, body: { name: 'x', scopes: ['payments:read'] } });
    const events = await json(await t.request('GET', '/v1/audit_events?limit=100', { token: acme.token }));
    expect(events.data.find((event: { request_id: string }) => event.request_id === 'audit-denied')).toMatchObject({ outcome: 'failed', status: 403 });
    const creation = events.data.find((event: { action: string }) => event.action === 'tenant.create');
    expect(creation).toMatchObject({ tenant: acme.tenantId, resource: acme.tenantId, outcome: 'succeeded', status: 201 });
  });

  test('support reads a tenant\'s audit events with Nimbus-Tenant; platform:admin cannot', async () => {
    const read = await t.request('GET', '/v1/audit_events', { token: support, headers: { 'Nimbus-Tenant': acme.tenantId } });
    expect(read.status).toBe(200);
    expect((await json(read)).data.length).toBeGreaterThan(0);
    expect((await t.request('GET', '/v1/audit_events', { token: admin, headers: { 'Nimbus-Tenant': acme.tenantId } })).status).toBe(403);
  });
});

describe('secrets never reach a log line', () => {
  test('no client secret or token appears in the captured logs', async () => {
    // Also a failed token request carrying a secret in the body.
    await t.app.handle(
      new Request('http://localhost/oauth/token', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: acme.clientId, client_secret: 'cs_typo_secret_value' }),
      }),
    );
    secrets.push('cs_typo_secret_value');
    const logs = t.logs.text();
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).toContain(acme.clientId);
    const leaked = secrets.filter((secret) => logs.includes(secret) || logs.includes(secret.split('.')[2] ?? secret));
    expect(leaked).toEqual([]);
  });
});
