import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { eq } from 'drizzle-orm';
import { createPostgresDatabase, schema } from '../../db';
import { clientAddress } from '../../plugins/auth/client-address';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, type TestTenant } from '../helpers/auth';

/**
 * The token endpoint's failure limit behind a load balancer (issue: one misconfigured
 * client must not lock out every tenant at the same address), shared by replicas, and
 * client secrets stored as a keyed hash.
 */
let t: TestApp;
let other: TestApp;
let acme: TestTenant;
let globex: TestTenant;
beforeAll(async () => {
  t = await createTestApp({ env: { NIMBUS_TRUSTED_PROXIES: '1' } });
  // A second replica: its own connection pool on PostgreSQL, its own process state.
  const shared = t.database.url ? createPostgresDatabase(t.database.url, { maxConnections: 4 }) : t.database;
  other = await createTestApp({ env: { NIMBUS_TRUSTED_PROXIES: '1' }, database: shared });
  acme = await createTenant(t, { name: 'Acme' });
  globex = await createTenant(t, { name: 'Globex' });
}, 60_000);
afterAll(async () => {
  if (other.database !== t.database) await other.database.close();
  await t.close();
});

const resetLimits = () => t.database.system((tx) => tx.delete(schema.authRateLimits));

function token(app: TestApp, clientId: string, secret: string, forwardedFor: string): Promise<Response> {
  return app.app.handle(
    new Request('http://localhost/oauth/token', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
        'x-forwarded-for': forwardedFor,
      },
      body: 'grant_type=client_credentials',
    }),
  );
}

describe('client address', () => {
  test('no trusted proxy: the socket peer, whatever X-Forwarded-For claims', () => {
    const request = new Request('http://x/', { headers: { 'x-forwarded-for': '6.6.6.6' } });
    expect(clientAddress(request, '10.0.0.9', 0)).toBe('10.0.0.9');
  });

  test('N trusted proxies: the entry the outermost trusted proxy appended; spoofed entries to its left are ignored', () => {
    const request = new Request('http://x/', { headers: { 'x-forwarded-for': '6.6.6.6, 203.0.113.7, 10.0.0.5' } });
    expect(clientAddress(request, '10.0.0.9', 1)).toBe('10.0.0.5');
    expect(clientAddress(request, '10.0.0.9', 2)).toBe('203.0.113.7');
    expect(clientAddress(new Request('http://x/'), '10.0.0.9', 1)).toBe('10.0.0.9');
  });

  test('a bad NIMBUS_TRUSTED_PROXIES stops the start naming it', async () => {
    await expect(createTestApp({ env: { NIMBUS_TRUSTED_PROXIES: 'many' }, database: t.database })).rejects.toThrow(/NIMBUS_TRUSTED_PROXIES/);
  });
});

describe('the failure limit behind a load balancer', () => {
  test('a burst of bad credentials from one address does not lock out other clients there; its failures get 429', async () => {
    await resetLimits();
    for (let i = 0; i < 10; i++) expect((await token(t, `cli_fuzz${i}`, 'cs_wrong', '198.51.100.1')).status).toBe(401);
    const guessing = await token(t, 'cli_fuzz99', 'cs_wrong', '198.51.100.1');
    expect(guessing.status).toBe(429);
    expect(Number(guessing.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another tenant's correctly configured client behind the same balancer address.
    expect((await token(t, globex.clientId, globex.clientSecret, '198.51.100.1')).status).toBe(200);
    // A different client address through the same proxy is not limited at all.
    expect((await token(t, 'cli_fuzz100', 'cs_wrong', '198.51.100.2')).status).toBe(401);
  });

  test('the counters are shared by replicas: ten failures split over two replicas block the client on both', async () => {
    await resetLimits();
    for (let i = 0; i < 10; i++) {
      const replica = i % 2 === 0 ? t : other;
      expect((await token(replica, acme.clientId, 'cs_wrong', `192.0.2.${i}`)).status).toBe(401);
    }
    const blocked = await token(other, acme.clientId, acme.clientSecret, '192.0.2.200');
    expect(blocked.status).toBe(429);
    expect((await token(t, acme.clientId, acme.clientSecret, '192.0.2.201')).status).toBe(429);
    await resetLimits();
    expect((await token(t, acme.clientId, acme.clientSecret, '192.0.2.201')).status).toBe(200);
  });
});

describe('client secrets are stored as a keyed hash', () => {
  test('HMAC-SHA-256 with a server key, never the secret and never argon2 any more', async () => {
    const [row] = await t.database.system((tx) => tx.select().from(schema.clients).where(eq(schema.clients.id, acme.clientId)));
    expect(row!.secretHash).toStartWith('hmac-sha256$');
    expect(row!.secretHash).not.toContain(acme.clientSecret);
  });

  test('a hash from before (argon2id) still works once and is replaced by the keyed hash', async () => {
    await resetLimits();
    const legacy = await Bun.password.hash(globex.clientSecret, { algorithm: 'argon2id', memoryCost: 19_456, timeCost: 2 });
    await t.database.system((tx) => tx.update(schema.clients).set({ secretHash: legacy }).where(eq(schema.clients.id, globex.clientId)));
    expect((await token(t, globex.clientId, 'cs_wrong', '192.0.2.50')).status).toBe(401);
    expect((await token(t, globex.clientId, globex.clientSecret, '192.0.2.50')).status).toBe(200);
    const [row] = await t.database.system((tx) => tx.select().from(schema.clients).where(eq(schema.clients.id, globex.clientId)));
    expect(row!.secretHash).toStartWith('hmac-sha256$');
    expect((await token(t, globex.clientId, globex.clientSecret, '192.0.2.50')).status).toBe(200);
  });
});
