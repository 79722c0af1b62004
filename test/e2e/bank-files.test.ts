import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nimbusConfig from '../../nimbus.config';
import { bankFilesPlugin, type BankFilesService } from '../../plugins/bank-files';
import { createReconciler } from '../../plugins/payments';
import { createBankFiles } from '../../processors/bank-files/index.ts';
import { ACH_ACCOUNTS, ACH_ROUTING, createTestBank, SEPA_ACCOUNTS } from '../../processors/bank-files/testing/bank.ts';
import { CREDENTIALS } from '../../processors/bank-files/testing/fixtures.ts';
import { validate } from '../../processors/bank-files/testing/xsd.ts';
import { createSimulator } from '../../processors/simulator';
import { startReceiver, type Receiver } from '../../webhooks/test-support';
import { startWebhookWorker, type WebhookWorker } from '../../webhooks/worker';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, platformToken, type TestTenant } from '../helpers/auth';
import { allStoredText, call, eventTypes, type Json } from '../helpers/payments';

/**
 * SEPA Direct Debit and ACH through bank files, over NimbusPay's HTTP API, with the
 * connector and its plugin listed as a deployer lists them: debits are created, the
 * cut-off writes files to the outbox directory, a test bank reads them and drops its
 * answers into the inbox, the worker's tick reads them, and payments settle or fail
 * with the bank's codes, events and webhooks going out as for any processor.
 */

let t: TestApp;
let acme: TestTenant;
let admin: string;
let service: BankFilesService;
let receiver: Receiver;
let worker: WebhookWorker;
let root: string;
let clock = Date.parse('2026-11-25T08:00:00.000Z');
const responses: string[] = [];
const bank = createTestBank({ account: CREDENTIALS.sepaCreditorIban!, now: () => new Date(clock) });
const SECRETS = [...Object.values(SEPA_ACCOUNTS), ...Object.values(ACH_ACCOUNTS), '370400440532013'];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'nimbus-bank-files-'));
  const plugin = bankFilesPlugin({ now: () => clock, autoStart: false });
  t = await createTestApp({
    env: { NIMBUS_RECONCILE_AFTER_MS: '0' },
    definition: {
      processors: [createBankFiles({ now: () => clock }), createSimulator()],
      plugins: [...nimbusConfig.plugins.filter((candidate) => candidate.name !== 'bank-files'), plugin],
    },
    credentials: { 'bank-files': { ...CREDENTIALS, outboxDir: join(root, 'outbox'), inboxDir: join(root, 'inbox') } },
  });
  service = t.nimbus.service(plugin)!;
  acme = await createTenant(t);
  admin = await platformToken(t, ['platform:admin']);
  receiver = startReceiver();
  worker = startWebhookWorker(
    { database: t.database, logger: t.logger, metrics: t.metrics },
    { allowPrivate: true, pollIntervalMs: 50, leaseMs: 5000, timeoutMs: 2000, retry: { delaysMs: [100], jitter: 0 } },
  );
  const endpoint = await call(t, 'POST', '/v1/webhook_endpoints', acme.token, { url: receiver.url, enabled_events: ['*'] });
  expect(endpoint.status).toBe(201);
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  receiver?.stop();
  await t?.close();
  rmSync(root, { recursive: true, force: true });
});

const at = (iso: string) => void (clock = Date.parse(iso));
const sepaDebit = (iban: string, mandate: string) => ({ type: 'sepa_debit', sepa_debit: { iban, account_holder_name: 'Jürgen Groß', mandate: { reference: mandate, signed_at: '2026-11-01' } } });
const achDebit = (account: string) => ({ type: 'bank_transfer', bank_transfer: { scheme: 'ach', routing_number: ACH_ROUTING, account_number: account, account_type: 'checking', account_holder_name: 'Acme Corp' } });

async function pay(method: unknown, currency: string, amount = 2000) {
  const answer = await call(t, 'POST', '/v1/payments', acme.token, { amount, currency, payment_method: method });
  responses.push(answer.text);
  expect(answer.status).toBe(201);
  return answer.body as Json;
}
const get = async (path: string, token = acme.token) => {
  const answer = await call(t, 'GET', path, token);
  responses.push(answer.text);
  return answer.body as Json;
};

/** The bank reads what the outbox holds and answers into the inbox (as a bank channel would sync it). */
function bankAnswers(answers = (name: string) => bank.receive(readFileSync(join(root, 'outbox', name), 'utf8'))): string[] {
  const outbox = join(root, 'outbox');
  const seen = join(root, 'seen');
  mkdirSync(seen, { recursive: true });
  const names = readdirSync(outbox).filter((name) => !name.startsWith('.') && !readdirSync(seen).includes(name));
  for (const name of names) {
    for (const answer of answers(name)) writeFileSync(join(root, 'inbox', answer.name), answer.content);
    writeFileSync(join(seen, name), '');
  }
  return names;
}

const payments: Record<string, Json> = {};

describe('debits through bank files', () => {
  test('are created processing at bank-files and wait for the cut-off', async () => {
    payments.sepaSettles = await pay(sepaDebit(SEPA_ACCOUNTS.settles, 'MNDT-E2E-1'), 'EUR');
    payments.sepaClosed = await pay(sepaDebit(SEPA_ACCOUNTS.closed, 'MNDT-E2E-2'), 'EUR');
    payments.sepaMd06 = await pay(sepaDebit(SEPA_ACCOUNTS.refundRequest, 'MNDT-E2E-3'), 'EUR', 4500);
    payments.achSettles = await pay(achDebit(ACH_ACCOUNTS.settles), 'USD');
    payments.achNoFunds = await pay(achDebit(ACH_ACCOUNTS.noFunds), 'USD');
    for (const payment of Object.values(payments)) {
      expect(payment).toMatchObject({ status: 'processing', processor: 'bank-files', processor_reference: expect.stringMatching(/^bfp-/) });
    }
    expect(payments.sepaSettles.payment_method.sepa_debit).toMatchObject({ last4: '3000', mandate_reference: 'MNDT-E2E-1' });
    // A SEPA transfer the payer would push (bank_transfer in EUR) has no mandate to collect
    // on: bank-files takes bank_transfer in USD only, so routing never offers it one; the
    // deployment's other processor takes it.
    const transfer = await pay({ type: 'bank_transfer', bank_transfer: { scheme: 'sepa', iban: SEPA_ACCOUNTS.settles, account_holder_name: 'Jane' } }, 'EUR');
    expect(transfer.processor).toBe('simulator');
    expect(await service.tick()).toMatchObject({ files: 0 }); // 08:00: before the 09:00 cut-off
    expect(existsSync(join(root, 'outbox'))).toBe(false);
  });

  test('each rail in its own currency: a payment in the other rail\'s currency is never routed here, forced here, or given a rule naming it', async () => {
    // bank-files takes sepa_debit in EUR and bank_transfer in USD (ACH): a SEPA transfer in
    // EUR forced here is refused up front, not accepted and failed at authorize.
    const sepaTransfer = { type: 'bank_transfer', bank_transfer: { scheme: 'sepa', iban: SEPA_ACCOUNTS.settles, account_holder_name: 'Jane' } };
    const forced = await call(t, 'POST', '/v1/payments', acme.token, { amount: 2000, currency: 'EUR', payment_method: sepaTransfer, processor: 'bank-files' });
    expect([forced.status, forced.body.error?.code, forced.body.error?.param]).toEqual([400, 'parameter_invalid', 'processor']);
    const rule = await call(t, 'PUT', `/v1/tenants/${acme.tenantId}/routing`, admin, { rules: [{ method: 'sepa_debit', currency: 'USD', processors: ['bank-files'] }] });
    expect([rule.status, rule.body.error?.code, rule.body.error?.param]).toEqual([400, 'parameter_invalid', 'rules[0].processors[0]']);
    const achInEur = await call(t, 'PUT', `/v1/tenants/${acme.tenantId}/routing`, admin, { rules: [{ method: 'bank_transfer', currency: 'EUR', processors: ['bank-files'] }] });
    expect([achInEur.status, achInEur.body.error?.param]).toEqual([400, 'rules[0].processors[0]']);
    const routing = await call(t, 'GET', `/v1/tenants/${acme.tenantId}/routing`, admin);
    expect(routing.body.rules).toEqual([]);
  });

  test('the cut-offs write a pain.008 and a NACHA file; the bank\'s answers settle or fail them with its codes', async () => {
    at('2026-11-25T20:00:30.000Z');
    expect(await service.tick()).toMatchObject({ files: 2, delivered: 2 });
    const written = bankAnswers();
    expect(written.sort()).toEqual([expect.stringMatching(/^NBF-ACH-20261125-A\.ach$/), expect.stringMatching(/^NBF-SDD-20261125-\d{6}-[0-9a-f]{6}\.xml$/)]);
    const pain = readFileSync(join(root, 'outbox', written.find((name) => name.endsWith('.xml'))!), 'utf8');
    expect((await validate('pain.008.001.02', pain)).valid).toBe(true);
    expect(pain).toContain('<Nm>Juergen Gross</Nm>');

    expect(await service.tick()).toMatchObject({ statusFiles: 2, outcomes: 4 });
    expect(await get(`/v1/payments/${payments.sepaSettles.id}`)).toMatchObject({ status: 'succeeded', amount_received: 2000, failure: null });
    expect(await get(`/v1/payments/${payments.sepaClosed.id}`)).toMatchObject({ status: 'failed', failure: { code: 'AC04', message: 'The account is closed.' } });
    expect(await get(`/v1/payments/${payments.achNoFunds.id}`)).toMatchObject({ status: 'failed', failure: { code: 'R01' } });
    expect((await get(`/v1/payments/${payments.achSettles.id}`)).status).toBe('processing'); // ACH: no news until the return window passes
    expect(await eventTypes(t, acme.token, payments.sepaSettles.id)).toEqual(['payment.created', 'payment.processing', 'payment.succeeded']);
    expect(await eventTypes(t, acme.token, payments.sepaClosed.id)).toEqual(['payment.created', 'payment.processing', 'payment.failed']);
    expect(readdirSync(join(root, 'inbox', 'processed')).length).toBe(2);
  });

  test('ACH settles when its return window passes', async () => {
    at('2026-12-02T09:30:00.000Z');
    expect(await service.tick()).toMatchObject({ outcomes: 1 });
    expect(await get(`/v1/payments/${payments.achSettles.id}`)).toMatchObject({ status: 'succeeded', amount_received: 2000 });
  });

  test('a return after settlement (MD06) becomes a refund paid by the return, with the code in its metadata', async () => {
    for (const answer of bank.later()) writeFileSync(join(root, 'inbox', answer.name), answer.content);
    expect(await service.tick()).toMatchObject({ reversals: 1 });
    const payment = await get(`/v1/payments/${payments.sepaMd06.id}`);
    expect(payment).toMatchObject({ status: 'succeeded', amount_refunded: 4500 });
    const refunds = await get(`/v1/refunds?payment=${payments.sepaMd06.id}`);
    expect(refunds.data).toEqual([
      expect.objectContaining({
        status: 'succeeded',
        amount: 4500,
        reason: null,
        metadata: { bank_return_code: 'MD06', bank_return_reason: 'The debtor asked their bank for a refund.', bank_reversal: 'returned_after_settlement' },
      }),
    ]);
    expect(await eventTypes(t, acme.token, refunds.data[0].id)).toEqual(['refund.created', 'refund.succeeded']);
    expect(await service.tick()).toMatchObject({ reversals: 0 });
  });

  test('a refund is a credit transfer in the next pain.001; the bank\'s booking settles it', async () => {
    const created = await call(t, 'POST', '/v1/refunds', acme.token, { payment: payments.sepaSettles.id, amount: 500 });
    responses.push(created.text);
    expect(created.body).toMatchObject({ status: 'pending', amount: 500 });
    at('2026-12-02T09:00:30.000Z'); // a cut-off already run: nothing new
    at('2026-12-02T14:00:30.000Z');
    expect(await service.tick()).toMatchObject({ files: 1 });
    const [name] = bankAnswers();
    expect((await validate('pain.001.001.03', readFileSync(join(root, 'outbox', name!), 'utf8'))).valid).toBe(true);
    await service.tick();
    expect(await get(`/v1/refunds/${created.body.id}`)).toMatchObject({ status: 'succeeded' });
    expect(await get(`/v1/payments/${payments.sepaSettles.id}`)).toMatchObject({ amount_refunded: 500 });
  });

  test('events reach the webhook endpoint', async () => {
    // 5 debits x (created, processing, outcome), the refused transfer (created, failed), 2 refunds x (created, succeeded).
    const received = await receiver.waitFor(21, 15_000);
    const types = received.map((request) => JSON.parse(request.body).type as string);
    for (const type of ['payment.processing', 'payment.succeeded', 'payment.failed', 'refund.created', 'refund.succeeded']) expect(types).toContain(type);
    const failed = received.map((request) => JSON.parse(request.body)).find((event) => event.type === 'payment.failed' && event.data.object.id === payments.sepaClosed.id);
    expect(failed.data.object.failure.code).toBe('AC04');
  }, 30_000);
});

describe('the admin routes', () => {
  test('upload a status file by hand: platform:admin only; junk is 400; a repeat changes nothing', async () => {
    const payment = await pay(sepaDebit(SEPA_ACCOUNTS.noFunds, 'MNDT-E2E-9'), 'EUR');
    at('2026-12-03T09:00:30.000Z');
    await service.tick();
    const [name] = bankAnswers(() => []); // the bank channel is down: support uploads the answer
    const [answer] = bank.receive(readFileSync(join(root, 'outbox', name!), 'utf8'));
    const upload = (token: string | undefined, content: string) => t.request('POST', '/v1/bank_files/status_files', { token, body: { filename: 'camt.xml', content } });
    expect((await upload(undefined, answer!.content)).status).toBe(401);
    expect((await upload(acme.token, answer!.content)).status).toBe(403);
    const junk = await upload(admin, '<html>no</html>');
    expect(junk.status).toBe(400);
    expect(((await junk.json()) as { error: { code: string } }).error.code).toBe('status_file_invalid');
    const first = await upload(admin, answer!.content);
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({ object: 'bank_status_file', format: 'camt.054.001.02', applied: 1, duplicate: false });
    expect(await get(`/v1/payments/${payment.id}`)).toMatchObject({ status: 'failed', failure: { code: 'AM04' } });
    const again = await upload(admin, answer!.content);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ duplicate: true });
  });

  test('trace a payment to its file, list files, resend one', async () => {
    const { processor_reference: reference } = await get(`/v1/payments/${payments.achSettles.id}`);
    const trace = await get(`/v1/bank_files/traces/${reference}`, admin);
    expect(trace).toMatchObject({ object: 'bank_file_trace', kind: 'payment', status: 'succeeded', file: { format: 'nacha' }, entry_id: expect.stringMatching(/^11000000\d{7}$/), date: '2026-11-27' });
    const files = await get('/v1/bank_files/files?limit=10', admin);
    expect(files.data.map((file: Json) => file.format).sort()).toEqual(['nacha', 'pain.001.001.03', 'pain.008.001.02', 'pain.008.001.02']);
    expect(JSON.stringify(files)).not.toContain('references');
    // Every entry of those has its answer: their bytes are gone. A new ACH file keeps its own until the calendar settles it.
    expect(files.data.every((file: Json) => !file.content_kept && file.open_entries === 0)).toBe(true);
    await pay(achDebit(ACH_ACCOUNTS.settles), 'USD', 777);
    at('2026-12-03T20:00:30.000Z');
    expect(await service.tick()).toMatchObject({ files: 1 });
    const open = (await get('/v1/bank_files/files?limit=1', admin)).data[0];
    expect(open).toMatchObject({ format: 'nacha', content_kept: true, open_entries: 1, total: 777, status: 'delivered' });
    const resent = await call(t, 'POST', `/v1/bank_files/files/${open.id}/resend`, admin);
    expect(resent.body).toMatchObject({ id: open.id, sha256: open.sha256, deliveries: 2 });
    const closed = files.data.find((file: Json) => !file.content_kept)!;
    expect((await call(t, 'POST', `/v1/bank_files/files/${closed.id}/resend`, admin)).status).toBe(409);
    expect((await call(t, 'GET', '/v1/bank_files/traces/bfp-nothing', admin)).status).toBe(404);
    expect((await call(t, 'GET', '/v1/bank_files/files', acme.token)).status).toBe(403);
  });
});

describe('without the worker\'s callbacks', () => {
  test('reconciliation alone settles a debit from the same state', async () => {
    const payment = await pay(sepaDebit(SEPA_ACCOUNTS.settles, 'MNDT-E2E-R'), 'EUR');
    at('2026-12-04T09:00:30.000Z');
    const operator = service.operator;
    await operator.runDueCutoffs();
    const [file] = await operator.deliverFiles();
    for (const answer of bank.receive(readFileSync(join(root, 'outbox', file!.name), 'utf8'))) await operator.ingest(answer.name, answer.content, 'inbox');
    expect((await get(`/v1/payments/${payment.id}`)).status).toBe('processing');
    await createReconciler(t.payments, { autoStart: false }).runOnce();
    expect((await get(`/v1/payments/${payment.id}`)).status).toBe('succeeded');
  });
});

describe('no account number escapes', () => {
  test('in responses, stored rows, logs or webhooks', async () => {
    const stored = await allStoredText(t.database);
    const webhooks = receiver.received.map((request) => request.body).join('\n');
    for (const [where, text] of [['responses', responses.join('\n')], ['database', stored], ['logs', t.logs.text()], ['webhooks', webhooks]] as const) {
      for (const secret of SECRETS) expect({ where, leaked: text.includes(secret) ? secret : null }).toEqual({ where, leaked: null });
    }
    expect(stored).toContain('bfp-'); // the scan did read the processor state
  });
});

describe('the OpenAPI document of a deployment with bank files', () => {
  test('describes the admin routes and passes redocly lint (recommended rules)', async () => {
    const text = await (await t.request('GET', '/docs/json')).text();
    const document = JSON.parse(text) as Json;
    expect(Object.keys(document.paths).filter((path) => path.startsWith('/v1/bank_files')).sort()).toEqual([
      '/v1/bank_files/files',
      '/v1/bank_files/files/{id}/resend',
      '/v1/bank_files/status_files',
      '/v1/bank_files/traces/{reference}',
    ]);
    const file = join(root, 'openapi.json');
    writeFileSync(file, text);
    const lint = Bun.spawnSync(
      ['node', 'node_modules/@redocly/cli/bin/cli.js', 'lint', file, '--extends', 'recommended', '--skip-rule', 'no-empty-servers', '--format', 'stylish'],
      { env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' } },
    );
    if (lint.exitCode !== 0) console.error(lint.stdout.toString() + lint.stderr.toString());
    expect(lint.exitCode).toBe(0);
  }, 60_000);
});
