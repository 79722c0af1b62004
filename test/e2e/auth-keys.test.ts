import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { exportJWK, generateKeyPair } from 'jose';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant } from '../helpers/auth';
import { KeyStore } from '../../plugins/auth/keys';

async function privateJwk(kid: string) {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid };
}

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe('signing keys', () => {
  test('development: one key is generated once and persisted, so every process agrees', async () => {
    const first = await new KeyStore(t.config, t.database).signer();
    const second = await new KeyStore(t.config, t.database).signer();
    expect(second.kid).toBe(first.kid);
    const published = await new KeyStore(t.config, t.database).publicJwks();
    expect(published.keys.map((key) => key.kid)).toEqual([first.kid]);
    expect(JSON.stringify(published)).not.toContain('"d"');
  });

  test('NIMBUS_JWT_PRIVATE_JWKS: the first key signs, every key is published and still verifies (rotation)', async () => {
    const [next, previous] = [await privateJwk('k-2026-11'), await privateJwk('k-2026-10')];
    const oldApp = await createTestApp({ env: { NIMBUS_JWT_PRIVATE_JWKS: JSON.stringify({ keys: [previous] }) }, database: t.database });
    const tenant = await createTenant(oldApp);
    const header = JSON.parse(Buffer.from(tenant.token.split('.')[0]!, 'base64url').toString());
    expect(header.kid).toBe('k-2026-10');

    const rotated = await createTestApp({ env: { NIMBUS_JWT_PRIVATE_JWKS: JSON.stringify({ keys: [next, previous] }) }, database: t.database });
    const jwks = (await (await rotated.request('GET', '/.well-known/jwks.json')).json()) as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys[0]!.kid).toBe('k-2026-11');
    expect(jwks.keys.map((key) => key.kid).sort()).toEqual(['k-2026-10', 'k-2026-11']);
    for (const key of jwks.keys) expect(key.d).toBeUndefined();
    // A token signed before the rotation still works after it.
    expect((await rotated.request('GET', '/v1/clients', { token: tenant.token })).status).toBe(200);
    const fresh = await createTenant(rotated);
    expect(JSON.parse(Buffer.from(fresh.token.split('.')[0]!, 'base64url').toString()).kid).toBe('k-2026-11');
  });
});
