import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { rowsOf } from '../../db';
import { reencryptSecrets } from '../../webhooks/reencrypt';
import { sealingKey } from '../../webhooks/sealing';
import { eventually, type Receiver, startReceiver, writeEvent } from '../../webhooks/test-support';
import { startWebhookWorker, type WebhookWorker, type WebhookWorkerOptions } from '../../webhooks/worker';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, type TestTenant } from '../helpers/auth';
import { migratedDataDir, spawnNimbus } from '../helpers/process';

/**
 * Issue 11, point 9: webhook signing secrets are encrypted at rest (AES-256-GCM under
 * NIMBUS_WEBHOOK_SECRET_KEYS, bound to the endpoint id), old plaintext rows keep working,
 * a key rotation is possible, and a wrong key stops deliveries loudly instead of sending
 * them unsigned.
 */

const KEY_A = randomBytes(32).toString('base64');
const KEY_B = randomBytes(32).toString('base64');
const KID_A = sealingKey(KEY_A).kid;
const KID_B = sealingKey(KEY_B).kid;

let t: TestApp;
let tenant: TestTenant;
const receivers: Receiver[] = [];
const workers: WebhookWorker[] = [];

beforeAll(async () => {
  t = await createTestApp({ env: { NIMBUS_WEBHOOK_SECRET_KEYS: KEY_A } });
  tenant = await createTenant(t);
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.stop()));
  for (const receiver of receivers.splice(0)) receiver.stop();
  // Endpoints of one test must not receive the next test's events.
  await t.database.system((tx) => tx.execute(sql`update webhook_endpoints set status = 'disabled'`));
});
afterAll(() => t.close());

const FAST: Partial<WebhookWorkerOptions> = { pollIntervalMs: 50, leaseMs: 5000, timeoutMs: 2000, retry: { delaysMs: [100, 100, 100], jitter: 0 } };

function worker(secretKeys: string[] | undefined, options: Partial<WebhookWorkerOptions> = {}): WebhookWorker {
  const started = startWebhookWorker({ database: t.database, logger: t.logger, metrics: t.metrics }, { allowPrivate: true, ...FAST, secretKeys, ...options });
  workers.push(started);
  return started;
}

function receiver(): Receiver {
  const started = startReceiver();
  receivers.push(started);
  return started;
}

async function endpoint(app: TestApp, url: string) {
  const response = await app.request('POST', '/v1/webhook_endpoints', { token: tenant.token, body: { url, enabled_events: ['*'] } });
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string; secret: string };
}

async function rotate(app: TestApp, id: string): Promise<string> {
  const response = await app.request('POST', `/v1/webhook_endpoints/${id}/rotate_secret`, { token: tenant.token });
  expect(response.status).toBe(200);
  return ((await response.json()) as { secret: string }).secret;
}

interface RawEndpoint {
  secret: string;
  previous_secret: string | null;
  failing_since: unknown;
  whole: string;
}

/** The row as the database holds it, and the whole row as text (every column). */
async function raw(id: string): Promise<RawEndpoint> {
  const [row] = await t.database.system(async (tx) =>
    rowsOf<RawEndpoint>(
      await tx.execute(sql`select secret, previous_secret, failing_since, row_to_json(e)::text as whole from webhook_endpoints e where id = ${id}`),
    ),
  );
  return row!;
}

/** Every spelling in which a secret could sit in a row: the whsec_ text, its base64, its bytes as base64url and hex. */
function forms(secret: string): string[] {
  const bytes = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return [secret, secret.slice('whsec_'.length), bytes.toString('base64url'), bytes.toString('hex')];
}

function expectSealedUnder(stored: string | null, kid: string): void {
  expect(stored).toMatch(new RegExp(`^v1:${kid.replace(/[-]/g, '\\-')}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+$`));
}

/** Makes a row look as it did before encryption: the whsec_ text itself. */
async function makePlaintext(id: string, secret: string): Promise<void> {
  await t.database.system((tx) => tx.execute(sql`update webhook_endpoints set secret = ${secret}, previous_secret = null where id = ${id}`));
}

/** Takes an endpoint out of the delivery fan-out without a write through the service (which would reseal it). */
async function park(id: string): Promise<void> {
  await t.database.system((tx) => tx.execute(sql`update webhook_endpoints set status = 'disabled' where id = ${id}`));
}

/** How many of the requests each secret verifies. */
function verifiedBy(secrets: string[], requests: Array<{ body: string; headers: Record<string, string> }>): number[] {
  return secrets.map(
    (secret) =>
      requests.filter((request) => {
        try {
          new Webhook(secret).verify(request.body, request.headers);
          return true;
        } catch {
          return false;
        }
      }).length,
  );
}

async function deliveries(id: string) {
  const response = await t.request('GET', `/v1/webhook_endpoints/${id}/deliveries?limit=100`, { token: tenant.token });
  return ((await response.json()) as { data: Array<Record<string, any>> }).data;
}

describe('webhook secrets at rest', () => {
  test('the raw row holds neither the secret nor its bytes, nor the previous secret during the 24 h overlap', async () => {
    const { id, secret: first } = await endpoint(t, 'https://hooks.example.com/a');
    const created = await raw(id);
    expectSealedUnder(created.secret, KID_A);
    expect(created.whole).not.toContain('whsec_');
    for (const form of forms(first)) expect(created.whole).not.toContain(form);

    const second = await rotate(t, id);
    const rotated = await raw(id);
    expectSealedUnder(rotated.secret, KID_A);
    expectSealedUnder(rotated.previous_secret, KID_A);
    expect(rotated.whole).not.toContain('whsec_');
    for (const form of [...forms(first), ...forms(second)]) expect(rotated.whole).not.toContain(form);
    // Nothing else gives the secret out either.
    const read = await (await t.request('GET', `/v1/webhook_endpoints/${id}`, { token: tenant.token })).text();
    expect(read).not.toContain('whsec_');
    expect(read).not.toContain(rotated.secret);
  });

  test('deliveries verify with the standardwebhooks library; after a rotation both secrets verify (two signatures)', async () => {
    const hook = receiver();
    const { id, secret: oldSecret } = await endpoint(t, hook.url);
    worker([KEY_A]);
    await writeEvent(t.database, tenant.tenantId);
    const [before] = await hook.waitFor(1);
    expect(() => new Webhook(oldSecret).verify(before!.body, before!.headers)).not.toThrow();
    expect(before!.headers['webhook-signature']!.split(' ')).toHaveLength(1);

    const newSecret = await rotate(t, id);
    await writeEvent(t.database, tenant.tenantId);
    const after = (await hook.waitFor(2))[1]!;
    expect(after.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(() => new Webhook(newSecret).verify(after.body, after.headers)).not.toThrow();
    expect(() => new Webhook(oldSecret).verify(after.body, after.headers)).not.toThrow();
    expect(() => new Webhook(`whsec_${randomBytes(32).toString('base64')}`).verify(after.body, after.headers)).toThrow();
  });

  test('a plaintext row from before encryption still delivers, and is sealed at its next write', async () => {
    const hook = receiver();
    const { id } = await endpoint(t, hook.url);
    const legacy = `whsec_${randomBytes(32).toString('base64')}`;
    await makePlaintext(id, legacy);
    worker([KEY_A]);
    await writeEvent(t.database, tenant.tenantId);
    const [first] = await hook.waitFor(1);
    expect(() => new Webhook(legacy).verify(first!.body, first!.headers)).not.toThrow();

    // Any write seals it: an update...
    const patched = await t.request('PATCH', `/v1/webhook_endpoints/${id}`, { token: tenant.token, body: { description: 'touched' } });
    expect(patched.status).toBe(200);
    const updated = await raw(id);
    expectSealedUnder(updated.secret, KID_A);
    for (const form of forms(legacy)) expect(updated.whole).not.toContain(form);
    await writeEvent(t.database, tenant.tenantId);
    const second = (await hook.waitFor(2))[1]!;
    expect(() => new Webhook(legacy).verify(second.body, second.headers)).not.toThrow();

    // ...and a rotation, which seals the plaintext on its way to previous_secret.
    await makePlaintext(id, legacy);
    const next = await rotate(t, id);
    const rotated = await raw(id);
    expectSealedUnder(rotated.previous_secret, KID_A);
    for (const form of [...forms(legacy), ...forms(next)]) expect(rotated.whole).not.toContain(form);
    await writeEvent(t.database, tenant.tenantId);
    const third = (await hook.waitFor(3))[2]!;
    expect(() => new Webhook(legacy).verify(third.body, third.headers)).not.toThrow();
    expect(() => new Webhook(next).verify(third.body, third.headers)).not.toThrow();
  });

  test('a wrong key fails loudly: nothing is sent, the attempt says why, an error is logged; the right key sends the retry', async () => {
    const hook = receiver();
    const { id, secret } = await endpoint(t, hook.url);
    worker([KEY_B], { retry: { delaysMs: [400], jitter: 0 } });
    await writeEvent(t.database, tenant.tenantId);
    const [failed] = await eventually(async () => {
      const rows = await deliveries(id);
      return rows.some((row) => row.status === 'failed') && rows.filter((row) => row.status === 'failed');
    });
    expect(failed!.error).toContain('could not be decrypted');
    expect(failed!.response_status).toBeNull();
    expect(hook.received).toHaveLength(0);
    const line = t.logs.lines.map((text) => JSON.parse(text) as Record<string, any>).find((entry) => entry.msg === 'webhook signing secret unreadable: delivery not sent' && entry.endpoint_id === id);
    expect(line).toMatchObject({ level: 'error', key_id: KID_A });
    expect(t.logs.text()).not.toContain(secret);
    // The platform's fault is not the receiver's: no failing streak towards disabling the endpoint.
    expect((await raw(id)).failing_since).toBeNull();
    await Promise.all(workers.splice(0).map((running) => running.stop()));

    worker([KEY_B, KEY_A]);
    const [retried] = await hook.waitFor(1);
    expect(() => new Webhook(secret).verify(retried!.body, retried!.headers)).not.toThrow();
  });

  test('a sealed secret copied to another endpoint does not open there (bound to the endpoint id); rotating recovers', async () => {
    const hook = receiver();
    const source = await endpoint(t, 'https://hooks.example.com/source');
    await park(source.id);
    const target = await endpoint(t, hook.url);
    await t.database.system((tx) =>
      tx.execute(sql`update webhook_endpoints set secret = (select secret from webhook_endpoints where id = ${source.id}) where id = ${target.id}`),
    );
    worker([KEY_A]);
    await writeEvent(t.database, tenant.tenantId);
    const rows = await eventually(async () => {
      const list = await deliveries(target.id);
      return list.some((row) => row.status === 'failed') && list;
    });
    expect(rows.find((row) => row.status === 'failed')!.error).toContain('could not be decrypted');
    expect(hook.received).toHaveLength(0);
    // Rotating is the way out (as after a lost key): the unreadable secret is dropped, not kept for an overlap.
    const fresh = await rotate(t, target.id);
    expect((await raw(target.id)).previous_secret).toBeNull();
    await writeEvent(t.database, tenant.tenantId);
    const [got] = await hook.waitFor(1);
    expect(got!.headers['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(() => new Webhook(fresh).verify(got!.body, got!.headers)).not.toThrow();
  });

  test('key rotation: add the new key first, re-encrypt every row (plaintext ones too), then the old key can go', async () => {
    const hook = receiver();
    const sealed = await endpoint(t, hook.url);
    const plain = await endpoint(t, hook.url);
    const legacy = `whsec_${randomBytes(32).toString('base64')}`;
    await makePlaintext(plain.id, legacy);
    // An expired overlap: its previous secret is dropped rather than re-encrypted.
    const expiring = await endpoint(t, 'https://hooks.example.com/expired');
    await park(expiring.id);
    await rotate(t, expiring.id);
    await t.database.system((tx) => tx.execute(sql`update webhook_endpoints set previous_secret_expires_at = now() - interval '1 minute' where id = ${expiring.id}`));

    // Step 1: the new key first, the old one still listed: old rows still deliver.
    const rotatedApp = await createTestApp({ env: { NIMBUS_WEBHOOK_SECRET_KEYS: `${KEY_B},${KEY_A}` }, database: t.database });
    worker([KEY_B, KEY_A]);
    await writeEvent(t.database, tenant.tenantId);
    expect(verifiedBy([sealed.secret, legacy], await hook.waitFor(2))).toEqual([1, 1]);
    // New endpoints are sealed under the new key at once.
    const fresh = await endpoint(rotatedApp, 'https://hooks.example.com/fresh');
    await park(fresh.id);
    expectSealedUnder((await raw(fresh.id)).secret, KID_B);
    await Promise.all(workers.splice(0).map((running) => running.stop()));

    // Step 2: re-encrypt.
    const report = await reencryptSecrets(t.database, { secretKeys: [KEY_B, KEY_A] });
    expect(report.key_id).toBe(KID_B);
    expect(report.unreadable).toEqual([]);
    expect(report.endpoints).toBeGreaterThanOrEqual(4);
    expect(report.reencrypted).toBeGreaterThanOrEqual(3);
    expect(report.expired_previous_cleared).toBeGreaterThanOrEqual(1);
    for (const id of [sealed.id, plain.id, expiring.id, fresh.id]) expectSealedUnder((await raw(id)).secret, KID_B);
    expect((await raw(expiring.id)).previous_secret).toBeNull();
    expect((await raw(plain.id)).whole).not.toContain('whsec_');
    const again = await reencryptSecrets(t.database, { secretKeys: [KEY_B, KEY_A] });
    expect(again.reencrypted).toBe(0);

    // Step 3: only the new key: everything still delivers, signed with the same secrets.
    worker([KEY_B]);
    await writeEvent(t.database, tenant.tenantId);
    expect(verifiedBy([sealed.secret, legacy], (await hook.waitFor(4)).slice(2))).toEqual([1, 1]);

    // And with the old key alone, the re-encrypted rows no longer open: a key dropped too early is loud, not silent.
    const stale = await reencryptSecrets(t.database, { secretKeys: [KEY_A] });
    expect(stale.unreadable).toEqual(expect.arrayContaining([sealed.id, plain.id, fresh.id]));
  });

  test('in development without a configured key, one is generated once and kept in the database', async () => {
    const dev = await createTestApp({ database: t.database });
    const other = await createTestApp({ database: t.database });
    const hook = receiver();
    const { id, secret } = await endpoint(dev, hook.url);
    const stored = await raw(id);
    expect(stored.secret).toMatch(/^v1:/);
    expect(stored.whole).not.toContain('whsec_');
    const [kept] = await t.database.system(async (tx) =>
      rowsOf<{ n: number | string }>(await tx.execute(sql`select count(*) as n from system_secrets where name = 'webhook_secret_key'`)),
    );
    expect(Number(kept!.n)).toBe(1);
    // Another process on the same database agrees on the key: its rotation opens the first one's row.
    await rotate(other, id);
    worker(undefined);
    await writeEvent(t.database, tenant.tenantId);
    const [got] = await hook.waitFor(1);
    expect(() => new Webhook(secret).verify(got!.body, got!.headers)).not.toThrow();
  });
});

describe('nimbus reencrypt-webhook-secrets', () => {
  test('runs as a CLI command and reports what it did', async () => {
    const child = spawnNimbus(['reencrypt-webhook-secrets', '--json'], { NIMBUS_DATA_DIR: await migratedDataDir(), LOG_LEVEL: 'silent', NIMBUS_WEBHOOK_SECRET_KEYS: KEY_A });
    const [code, stdout] = await Promise.all([child.exited, new Response(child.stdout).text()]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ key_id: KID_A, endpoints: 0, reencrypted: 0, expired_previous_cleared: 0, unreadable: [] });
  }, 60_000);
});
