import { PLATFORM_SCOPES, type PlatformScope, type Scope, TENANT_SCOPES } from '../../plugins/auth/model';
import { createPlatformClient } from '../../plugins/tenancy/service';
import type { TestApp } from './app';

/** Credentials of one client, as POST /v1/tenants or POST /v1/clients answered them. */
export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** A tenant made through the real API, with its first client and a ready token. */
export interface TestTenant extends ClientCredentials {
  tenantId: string;
  /** A token of the tenant's first client: all tenant scopes, or `options.scopes` when given. */
  token: string;
  /** A fresh token of the same client narrowed to `scopes` (a non-empty subset of the tenant scopes). */
  tokenWith(scopes: readonly Scope[]): Promise<string>;
}

const platformAdmins = new WeakMap<TestApp, Promise<ClientCredentials>>();

/**
 * The platform admin of a test app (scopes `platform:admin` and `platform:support`),
 * created once per app the way `nimbus bootstrap` does it.
 */
export function platformAdmin(t: TestApp): Promise<ClientCredentials> {
  let admin = platformAdmins.get(t);
  if (!admin) {
    admin = createPlatformClient(t.database, { name: 'Test platform admin' }).then((client) => ({
      clientId: client.id,
      clientSecret: client.secret,
    }));
    platformAdmins.set(t, admin);
  }
  return admin;
}

/**
 * Requests a token from the real `POST /oauth/token` (form-encoded, HTTP Basic).
 * Throws with the endpoint's answer when it is not 200.
 */
export async function requestToken(t: TestApp, credentials: ClientCredentials, scopes?: readonly Scope[]): Promise<string> {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (scopes && scopes.length > 0) form.set('scope', scopes.join(' '));
  const basic = Buffer.from(`${credentials.clientId}:${credentials.clientSecret}`).toString('base64');
  const response = await t.app.handle(
    new Request('http://localhost/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
      body: form.toString(),
    }),
  );
  const body = (await response.json()) as { access_token?: string };
  if (response.status !== 200 || !body.access_token) {
    throw new Error(`POST /oauth/token answered ${response.status}: ${JSON.stringify(body)}`);
  }
  return body.access_token;
}

/**
 * A token of the app's platform admin narrowed to `scopes` (`platform:admin` and/or
 * `platform:support`; default both).
 */
export async function platformToken(t: TestApp, scopes: readonly PlatformScope[] = PLATFORM_SCOPES): Promise<string> {
  return requestToken(t, await platformAdmin(t), scopes);
}

/**
 * Creates a tenant through `POST /v1/tenants` (as the app's platform admin) and gets a
 * token for its first client through `POST /oauth/token`, so every test exercises the
 * real authentication path.
 *
 * @example
 * const acme = await createTenant(t);
 * await t.request('POST', '/v1/payments', { token: acme.token, body });
 * const reader = await acme.tokenWith(['payments:read']);
 */
export async function createTenant(t: TestApp, options: { name?: string; scopes?: readonly Scope[] } = {}): Promise<TestTenant> {
  const response = await t.request('POST', '/v1/tenants', {
    token: await platformToken(t, ['platform:admin']),
    body: { name: options.name ?? 'Test tenant' },
  });
  const body = (await response.json()) as { id: string; client: { id: string; secret: string } };
  if (response.status !== 201) throw new Error(`POST /v1/tenants answered ${response.status}: ${JSON.stringify(body)}`);
  const credentials = { clientId: body.client.id, clientSecret: body.client.secret };
  return {
    tenantId: body.id,
    ...credentials,
    token: await requestToken(t, credentials, options.scopes ?? TENANT_SCOPES),
    tokenWith: (scopes) => requestToken(t, credentials, scopes),
  };
}
