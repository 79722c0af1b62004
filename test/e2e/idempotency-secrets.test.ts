import { afterAll, beforeAll, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../plugins/idempotency/store';
import { schema } from '../../db';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, platformToken, type TestTenant } from '../helpers/auth';
import { call, card, CARDS, paymentBody } from '../helpers/payments';

/**
 * The idempotency record never holds a plaintext secret (issue 11, item 7): responses that
 * show a secret once (tenant and client secrets, webhook signing secrets) are stored
 * sealed and still replayed byte for byte; requests are identified by an HMAC under a
 * server key, never by a plain hash of a body holding a card number and CVC.
 */

let t: TestApp;
let acme: TestTenant;
beforeAll(async () => {
  t = await createTestApp();
  acme = await createTenant(t);
}, 30_000);
afterAll(() => t.close());

const withKey = (key: string) => ({ 'Idempotency-Key': key });
const storedKeys = () => t.database.system((tx) => tx.select().from(schema.idempotencyKeys));

test('secrets shown once are never stored in the clear, and a replay still answers byte for byte', async () => {
  const admin = await platformToken(t, ['platform:admin']);
  const sends: Array<[string, string, string, unknown]> = [];
  const tenantAnswer = await call(t, 'POST', '/v1/tenants', admin, { name: 'Sealed Co' }, withKey('s-tenant'));
  sends.push([admin, '/v1/tenants', 's-tenant', { name: 'Sealed Co' }]);
  const clientAnswer = await call(t, 'POST', '/v1/clients', acme.token, { name: 'ci', scopes: ['payments:read'] }, withKey('s-client'));
  sends.push([acme.token, '/v1/clients', 's-client', { name: 'ci', scopes: ['payments:read'] }]);
  const rotatedClient = await call(t, 'POST', `/v1/clients/${clientAnswer.body.id}/rotate_secret`, acme.token, undefined, withKey('s-rotate'));
  sends.push([acme.token, `/v1/clients/${clientAnswer.body.id}/rotate_secret`, 's-rotate', undefined]);
  const endpoint = await call(t, 'POST', '/v1/webhook_endpoints', acme.token, { url: 'https://hooks.example.com/sealed', enabled_events: ['*'] }, withKey('s-endpoint'));
  sends.push([acme.token, '/v1/webhook_endpoints', 's-endpoint', { url: 'https://hooks.example.com/sealed', enabled_events: ['*'] }]);
  const rotatedEndpoint = await call(t, 'POST', `/v1/webhook_endpoints/${endpoint.body.id}/rotate_secret`, acme.token, undefined, withKey('s-wh-rotate'));
  sends.push([acme.token, `/v1/webhook_endpoints/${endpoint.body.id}/rotate_secret`, 's-wh-rotate', undefined]);

  const answers = [tenantAnswer, clientAnswer, rotatedClient, endpoint, rotatedEndpoint];
  const secrets = [tenantAnswer.body.client.secret, clientAnswer.body.secret, rotatedClient.body.secret, endpoint.body.secret, rotatedEndpoint.body.secret];
  for (const [index, answer] of answers.entries()) expect({ index, status: answer.status, secret: typeof secrets[index] }).toEqual({ index, status: answer.status < 300 ? answer.status : -1, secret: 'string' });

  const stored = JSON.stringify(await storedKeys());
  for (const secret of secrets) expect(stored.includes(secret)).toBe(false);

  for (const [index, [token, path, key, body]] of sends.entries()) {
    const replay = await call(t, 'POST', path, token, body, withKey(key));
    expect([replay.status, replay.text, replay.headers.get('idempotent-replayed')]).toEqual([answers[index]!.status, answers[index]!.text, 'true']);
  }
});

test('the request fingerprint is keyed: no plain hash of a body with a card number and CVC', async () => {
  const body = paymentBody(card(CARDS.visa, { cvc: '987' }));
  const created = await call(t, 'POST', '/v1/payments', acme.token, body, withKey('s-card'));
  expect(created.status).toBe(201);
  const row = (await storedKeys()).find((candidate) => candidate.key === 's-card')!;
  const plain = createHash('sha256').update(`POST /v1/payments\n${canonicalJson(body)}`).digest('hex');
  expect(row.requestHash).not.toContain(plain);
  expect(JSON.stringify(row)).not.toContain(CARDS.visa);
  expect(JSON.stringify(row)).not.toContain('"987"');
  // Still the same request to the server: the replay matches.
  const replay = await call(t, 'POST', '/v1/payments', acme.token, body, withKey('s-card'));
  expect([replay.status, replay.text]).toEqual([201, created.text]);
});
