import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHmac, createPublicKey } from 'node:crypto';
import { createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { keyStoreFor } from '../../plugins/auth/keys';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, type TestTenant } from '../helpers/auth';
import { freePort } from '../helpers/process';

let t: TestApp;
let acme: TestTenant;
let base: string;

beforeAll(async () => {
  const port = await freePort();
  t = await createTestApp({ env: { HOST: '127.0.0.1', PORT: String(port) } });
  t.app.listen({ hostname: '127.0.0.1', port });
  base = `http://127.0.0.1:${port}`;
  acme = await createTenant(t, { name: 'Acme' });
});
afterAll(async () => {
  await t.app.stop(true);
  await t.close();
});

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Signs arbitrary claims with the server's real signing key, to isolate one broken check at a time. */
async function signWithServerKey(claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  const signer = await keyStoreFor(t.config, t.database).signer();
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ scope: 'payments:read', tid: acme.tenantId, jti: 'x', ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: signer.kid, typ: 'at+jwt', ...header })
    .setIssuer((claims.iss as string) ?? t.config.issuer)
    .setAudience((claims.aud as string) ?? 'nimbuspay')
    .setSubject(acme.clientId)
    .setIssuedAt((claims.iat as number) ?? now)
    .setExpirationTime((claims.exp as number) ?? now + 600)
    .sign(signer.privateKey);
}

async function statusWith(token: string): Promise<Response> {
  return fetch(`${base}/v1/clients`, { headers: { authorization: `Bearer ${token}` } });
}

describe('the JWT', () => {
  test('verifies with jose createRemoteJWKSet against the server\'s own JWKS, issuer from the RFC 8414 metadata', async () => {
    const metadata = (await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      issuer: base,
      token_endpoint: `${base}/oauth/token`,
      jwks_uri: `${base}/.well-known/jwks.json`,
      grant_types_supported: ['client_credentials'],
    });
    const jwks = createRemoteJWKSet(new URL(String(metadata.jwks_uri)));
    const { payload, protectedHeader } = await jwtVerify(acme.token, jwks, {
      issuer: String(metadata.issuer),
      audience: 'nimbuspay',
      algorithms: ['ES256'],
    });
    expect(protectedHeader.alg).toBe('ES256');
    expect(typeof protectedHeader.kid).toBe('string');
    expect(payload).toMatchObject({ sub: acme.clientId, tid: acme.tenantId });
  });

  test('the JWKS publishes public parts only', async () => {
    const jwks = (await (await fetch(`${base}/.well-known/jwks.json`)).json()) as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const key of jwks.keys) {
      expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
      expect(key.d).toBeUndefined();
    }
  });

  test('a good token passes the guard over HTTP', async () => {
    expect((await statusWith(acme.token)).status).toBe(200);
  });
});

describe('refused tokens: 401 token_invalid / token_expired with error="invalid_token"', () => {
  async function expectRefused(token: string, code = 'token_invalid') {
    const response = await statusWith(token);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="nimbuspay", error="invalid_token"');
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code);
  }

  test('alg: none', async () => {
    const [header, payload] = acme.token.split('.');
    const decoded = JSON.parse(Buffer.from(header!, 'base64url').toString());
    await expectRefused(`${b64({ ...decoded, alg: 'none' })}.${payload}.`);
  });

  test('HS256 signed with the public key as HMAC secret', async () => {
    const jwks = (await (await fetch(`${base}/.well-known/jwks.json`)).json()) as { keys: Array<Record<string, string>> };
    const jwk = jwks.keys[0]!;
    const pem = createPublicKey({ key: jwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
    const [, payload] = acme.token.split('.');
    for (const secret of [pem, JSON.stringify(jwk)]) {
      const head = b64({ alg: 'HS256', kid: jwk.kid, typ: 'at+jwt' });
      const signature = createHmac('sha256', secret).update(`${head}.${payload}`).digest('base64url');
      await expectRefused(`${head}.${payload}.${signature}`);
    }
  });

  test('an unknown kid (a key the server never had)', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const token = await new SignJWT({ scope: 'payments:read', tid: acme.tenantId, jti: 'x' })
      .setProtectedHeader({ alg: 'ES256', kid: 'attacker-key', typ: 'at+jwt' })
      .setIssuer(t.config.issuer)
      .setAudience('nimbuspay')
      .setSubject(acme.clientId)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);
    await expectRefused(token);
  });

  test('the server\'s kid but another key', async () => {
    const signer = await keyStoreFor(t.config, t.database).signer();
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    expect((await exportJWK(privateKey)).x).toBeDefined();
    const token = await new SignJWT({ scope: 'clients:write', tid: acme.tenantId, jti: 'x' })
      .setProtectedHeader({ alg: 'ES256', kid: signer.kid, typ: 'at+jwt' })
      .setIssuer(t.config.issuer)
      .setAudience('nimbuspay')
      .setSubject(acme.clientId)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);
    await expectRefused(token);
  });

  test('a wrong audience', async () => {
    await expectRefused(await signWithServerKey({ aud: 'someone-else', scope: 'clients:write' }));
  });

  test('a wrong issuer', async () => {
    await expectRefused(await signWithServerKey({ iss: 'https://evil.example', scope: 'clients:write' }));
  });

  test('an expired exp: token_expired', async () => {
    const past = Math.floor(Date.now() / 1000) - 3600;
    await expectRefused(await signWithServerKey({ iat: past - 900, exp: past, scope: 'clients:write' }), 'token_expired');
  });

  test('a flipped payload byte', async () => {
    const [header, payload, signature] = acme.token.split('.');
    const bytes = Buffer.from(payload!, 'base64url');
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    await expectRefused(`${header}.${bytes.toString('base64url')}.${signature}`);
  });

  test('a flipped signature byte', async () => {
    const [header, payload, signature] = acme.token.split('.');
    const bytes = Buffer.from(signature!, 'base64url');
    bytes[0]! ^= 0x01;
    await expectRefused(`${header}.${payload}.${bytes.toString('base64url')}`);
  });

  test('a token of a revoked client', async () => {
    const created = await fetch(`${base}/v1/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${acme.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'soon revoked', scopes: ['clients:write'] }),
    });
    const client = (await created.json()) as { id: string; secret: string };
    const tokenResponse = await fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret }),
    });
    const token = ((await tokenResponse.json()) as { access_token: string }).access_token;
    expect((await statusWith(token)).status).toBe(200);
    const revoked = await fetch(`${base}/v1/clients/${client.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${acme.token}` } });
    expect(await revoked.json()).toEqual({ id: client.id, object: 'client', deleted: true });
    await expectRefused(token);
  });

  test('a token with claims of the wrong shape (sub not a client id)', async () => {
    await expectRefused(await signWithServerKey({ scope: 'clients:write', tid: 42 }));
  });
});
