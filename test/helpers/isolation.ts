import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { isTenantScope, TENANT_SCOPES, type Scope } from '../../plugins/auth/model';
import { createTestApp, type TestApp, type TestAppOptions } from './app';
import { createTenant, platformToken, type TestTenant } from './auth';

/**
 * A table-driven walk over every /v1 route the app has (from `app.routes`, so routes
 * added later by other plugins are covered without touching this file):
 * - a token lacking the route's scope gets 403 scope_missing;
 * - tenant B's token with tenant A's object ids gets 404 resource_missing, never 403;
 * - tenant B's lists show nothing of tenant A.
 * `options` builds the app under test (e.g. on a database where row-level security does
 * not bind, to prove every query names its tenant).
 */
export async function describeTenantIsolation(options: () => Promise<TestAppOptions> = async () => ({})): Promise<void> {
  /** /v1 routes that take no bearer token by design (API.md "Processor callbacks"). */
  const PUBLIC_V1 = [/^\/v1\/processors\/:[^/]+\/webhooks$/];

  /** Which id prefix a collection's `:id` takes. Unknown collections get a well-formed id that exists nowhere. */
  const PREFIX_OF: Record<string, string> = {
    payments: 'pay',
    refunds: 're',
    events: 'evt',
    webhook_endpoints: 'we',
    clients: 'cli',
    tenants: 'ten',
    audit_events: 'aud',
  };

  /** Objects tenant A creates through the API, when the route exists (failures are tolerated: routes land over time). */
  const SEEDS: Array<{ path: string; body: (ids: Map<string, string[]>) => unknown }> = [
    { path: '/v1/clients', body: () => ({ name: 'seeded', scopes: ['payments:read'] }) },
    { path: '/v1/webhook_endpoints', body: () => ({ url: 'http://127.0.0.1:9/hook', enabled_events: ['*'] }) },
    {
      path: '/v1/payments',
      body: () => ({
        amount: 2000,
        currency: 'EUR',
        payment_method: { type: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2040, cvc: '123', holder_name: 'Jane Doe' } },
      }),
    },
    {
      path: '/v1/payments',
      body: () => ({
        amount: 3000,
        currency: 'EUR',
        capture_method: 'manual',
        payment_method: { type: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2040, cvc: '123', holder_name: 'Jane Doe' } },
      }),
    },
    { path: '/v1/refunds', body: (ids) => ({ payment: ids.get('pay')?.[0] ?? 'pay_missing', amount: 100 }) },
  ];

  /** Bodies for cross-tenant writes that reference another object in the body (the 404 names that param). */
  const CROSS_TENANT_BODIES: Record<string, (ids: Map<string, string[]>) => unknown> = {
    'POST /v1/refunds': (ids) => ({ payment: ids.get('pay')?.[0] ?? 'pay_missing' }),
  };

  /**
   * test.each needs its table when the file loads, before beforeAll: the route labels come
   * from a throwaway app built the same way (same plugins, same routes).
   */
  const ROUTE_LABELS: string[] = await (async () => {
    const probe = await createTestApp(await options());
    try {
      return probe.app.routes
        .filter((route) => route.path.startsWith('/v1/') && !PUBLIC_V1.some((pattern) => pattern.test(route.path)))
        .map((route) => `${route.method} ${route.path}`);
    } finally {
      await probe.close();
    }
  })();

  interface V1Route {
    method: string;
    path: string;
    scopes: Scope[];
  }

  let t: TestApp;
  let a: TestTenant;
  let b: TestTenant;
  let routes: V1Route[];
  /** Tenant A's object ids by prefix. */
  const idsOfA = new Map<string, string[]>();

  function remember(value: unknown): void {
    if (Array.isArray(value)) return value.forEach(remember);
    if (typeof value !== 'object' || value === null) return;
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'id' && typeof inner === 'string' && /^[a-z]+_[A-Za-z0-9]+$/.test(inner)) {
        const prefix = inner.slice(0, inner.indexOf('_'));
        const list = idsOfA.get(prefix) ?? [];
        if (!list.includes(inner)) list.push(inner);
        idsOfA.set(prefix, list);
      } else remember(inner);
    }
  }

  function concretePath(path: string): string {
    const segments = path.split('/');
    return segments
      .map((segment, index) => {
        if (!segment.startsWith(':')) return segment;
        const collection = segments[index - 1] ?? '';
        const prefix = PREFIX_OF[collection];
        // Prefer a seeded (non-primary) client so a bug here cannot lock tenant A out mid-walk.
        const candidates = prefix ? (idsOfA.get(prefix) ?? []).filter((id) => id !== a.clientId) : [];
        return candidates[0] ?? `${prefix ?? 'obj'}_DoesNotExist0000000000000`;
      })
      .join('/');
  }

  function v1Routes(): V1Route[] {
    return t.app.routes
      .filter((route) => route.path.startsWith('/v1/') && !PUBLIC_V1.some((pattern) => pattern.test(route.path)))
      .map((route) => {
        const detail = (route.hooks as { detail?: Record<string, unknown> } | undefined)?.detail ?? {};
        return { method: route.method, path: route.path, scopes: (detail['x-required-scopes'] as Scope[] | undefined) ?? [] };
      });
  }

  async function send(route: V1Route, token: string, headers: Record<string, string> = {}): Promise<Response> {
    const label = `${route.method} ${route.path}`;
    const body = route.method === 'GET' || route.method === 'DELETE' ? undefined : (CROSS_TENANT_BODIES[label]?.(idsOfA) ?? {});
    return t.request(route.method, concretePath(route.path), { token, body, headers });
  }

  beforeAll(async () => {
    t = await createTestApp(await options());
    a = await createTenant(t, { name: 'Tenant A' });
    b = await createTenant(t, { name: 'Tenant B' });
    routes = v1Routes();
    const known = new Set(routes.map((route) => `${route.method} ${route.path}`));
    for (const seed of SEEDS) {
      if (!known.has(`POST ${seed.path}`)) continue;
      const response = await t.request('POST', seed.path, { token: a.token, body: seed.body(idsOfA) });
      if (response.ok) remember(await response.json());
    }
    // Everything tenant A can list (events, deliveries, audit events, ...) becomes an id to probe with.
    for (const route of routes.filter((candidate) => candidate.method === 'GET')) {
      const response = await send(route, a.token);
      if (response.ok) remember(((await response.json()) as { data?: unknown }).data);
    }
    remember({ id: a.tenantId });
  }, 60_000);
  afterAll(() => t.close());

  describe('the route table', () => {
    test('every /v1 route except processor callbacks declares its scopes', () => {
      const unguarded = routes.filter((route) => route.scopes.length === 0).map((route) => `${route.method} ${route.path}`);
      expect(unguarded).toEqual([]);
      expect(routes.length).toBeGreaterThan(5);
    });

    test('tenant A really owns objects for every collection it could create (so the 404s below are meaningful)', () => {
      const known = new Set(routes.map((route) => `${route.method} ${route.path}`));
      for (const seed of SEEDS) {
        if (!known.has(`POST ${seed.path}`)) continue;
        const prefix = PREFIX_OF[seed.path.split('/')[2]!]!;
        expect({ seed: seed.path, ids: (idsOfA.get(prefix) ?? []).length > 0 }).toEqual({ seed: seed.path, ids: true });
      }
    });
  });

  describe('a token lacking the route\'s scope: 403 scope_missing', () => {
    test.each(ROUTE_LABELS)('%s', async (label) => {
      const route = routes.find((candidate) => `${candidate.method} ${candidate.path}` === label)!;
      const tokens: string[] = [];
      if (route.scopes.some(isTenantScope)) {
        const others = TENANT_SCOPES.filter((scope) => !route.scopes.includes(scope));
        if (others.length > 0) tokens.push(await a.tokenWith(others));
        // platform:admin reads no tenant data; support never writes.
        tokens.push(await platformToken(t, ['platform:admin']));
        if (route.method !== 'GET') tokens.push(await platformToken(t, ['platform:support']));
      } else {
        tokens.push(a.token);
        if (!route.scopes.includes('platform:support')) tokens.push(await platformToken(t, ['platform:support']));
      }
      for (const token of tokens) {
        const response = await send(route, token, { 'Nimbus-Tenant': a.tenantId });
        expect({ label, status: response.status }).toEqual({ label, status: 403 });
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe('scope_missing');
      }
    });
  });

  describe('another tenant\'s objects: 404 resource_missing, lists show nothing of them', () => {
    test.each(ROUTE_LABELS)('%s', async (label) => {
      const route = routes.find((candidate) => `${candidate.method} ${candidate.path}` === label)!;
      if (!route.scopes.some(isTenantScope)) return; // platform routes have no tenant
      const needsId = route.path.includes(':');
      const response = await send(route, b.token);
      if (needsId || CROSS_TENANT_BODIES[label]) {
        expect({ label, status: response.status }).toEqual({ label, status: 404 });
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe('resource_missing');
        // Support reading tenant B must not reach tenant A's object either.
        if (route.method === 'GET') {
          const support = await send(route, await platformToken(t, ['platform:support']), { 'Nimbus-Tenant': b.tenantId });
          expect({ label, status: support.status }).toEqual({ label, status: 404 });
        }
      } else if (route.method === 'GET') {
        expect({ label, status: response.status }).toEqual({ label, status: 200 });
        const text = await response.text();
        const leaked = [...idsOfA.values()].flat().filter((id) => text.includes(id));
        expect({ label, leaked }).toEqual({ label, leaked: [] });
      }
    });

    test('tenant A\'s objects are all still there (nothing was changed through tenant B)', async () => {
      const clients = await t.request('GET', '/v1/clients?limit=100', { token: a.token });
      const ids = ((await clients.json()) as { data: Array<{ id: string }> }).data.map((client) => client.id);
      for (const id of idsOfA.get('cli') ?? []) expect(ids).toContain(id);
    });
  });
}
