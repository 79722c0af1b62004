import { describe, expect, test } from 'bun:test';
import { Writable } from 'node:stream';
import { createLogger } from '../../runtime/logger.ts';
import { WebhookSignatureError } from '../sdk/errors.ts';
import { ACH_ACCOUNTS, SEPA_ACCOUNTS } from './testing/bank.ts';
import { achDebit, harness, sepaDebit } from './testing/fixtures.ts';

/**
 * What the bank says back, days and weeks later: bookings, returns before and after
 * settlement, refunds paid by credit transfer or ACH credit, settlement by the calendar,
 * and the callbacks that carry each outcome to the payments layer.
 */

type Ok = { kind: 'result'; value: { status: string; reference: string } };
const referenceOf = (outcome: unknown) => (outcome as Ok).value.reference;

async function settledSepa(iban: string) {
  const h = harness();
  const reference = referenceOf(await h.authorize(sepaDebit(iban)));
  h.setClock('2026-11-25T09:00:30.000Z');
  await h.cutoffAndAnswer();
  return { h, reference };
}

function refund(h: ReturnType<typeof harness>, reference: string, amount: number, currency = 'EUR', idempotencyKey = h.key('refund')) {
  return h.caller.call(h.processor, 'refund', { idempotencyKey, reference, amount, currency });
}

describe('returns', () => {
  test('before settlement: the payment fails with the bank\'s code', async () => {
    const { h, reference } = await settledSepa(SEPA_ACCOUNTS.noFunds);
    expect(await h.syncPayment(reference)).toEqual({ kind: 'result', value: { kind: 'payment', reference, status: 'failed', code: 'AM04', message: 'Insufficient funds.' } });
  });

  test('after settlement (MD06): a reversal, paid by the return; refunds cannot pay it twice', async () => {
    const { h, reference } = await settledSepa(SEPA_ACCOUNTS.refundRequest);
    expect((await h.syncPayment(reference) as Ok).value.status).toBe('succeeded');
    // A refund the merchant asked for, not yet in a file, when the return arrives.
    const queued = referenceOf(await refund(h, reference, 300));
    for (const answer of h.bank.later()) h.files.inbox.push(answer);
    const [result] = await h.operator.receiveFiles();
    expect(result).toMatchObject({ reversals: [reference], outcomes: [{ kind: 'refund', reference: queued, status: 'failed', code: 'debit_returned' }] });
    expect((await h.syncPayment(reference) as Ok).value.status).toBe('succeeded'); // a final status stays final
    expect(await h.operator.openReversals()).toEqual([expect.objectContaining({ paymentReference: reference, code: 'MD06', amount: 2000, status: 'open' })]);
    // The plugin turns the reversal into a refund: paid at once by the return, no file.
    expect(await refund(h, reference, 2000, 'EUR', 'reversal-key')).toMatchObject({ kind: 'result', value: { status: 'succeeded' } });
    expect(await refund(h, reference, 2000, 'EUR', 'reversal-key')).toMatchObject({ kind: 'result', value: { status: 'succeeded' } });
    expect(await refund(h, reference, 1)).toMatchObject({ kind: 'result', value: { status: 'failed', code: 'amount_too_large' } });
    await h.operator.settleReversal(reference, { done: true, refund: 're_123' });
    expect(await h.operator.openReversals()).toEqual([]);
    h.setClock('2026-11-25T14:00:30.000Z');
    expect(await h.operator.runDueCutoffs()).toEqual([]); // nothing to pay back by transfer
  });

  test('the same status file twice (inbox and upload) applies once', async () => {
    const h = harness();
    const reference = referenceOf(await h.authorize(sepaDebit(SEPA_ACCOUNTS.closed)));
    h.setClock('2026-11-25T09:00:30.000Z');
    await h.operator.runDueCutoffs();
    const [file] = await h.operator.deliverFiles();
    const [answer] = h.bank.receive(h.files.delivered.get(file!.name)!);
    const first = await h.operator.ingest(answer!.name, answer!.content, 'upload');
    const second = await h.operator.ingest('copy.xml', answer!.content, 'inbox');
    expect(first).toMatchObject({ duplicate: false, applied: 1, outcomes: [{ reference, status: 'failed', code: 'AC04' }] });
    expect(second).toMatchObject({ duplicate: true, id: first.id, outcomes: [] });
  });

  test('a batch booked as one sum settles its open entries, and only at the exact amount', async () => {
    const h = harness({ bank: { booking: 'sum', camtVersion: '04' } });
    const settles = referenceOf(await h.authorize(sepaDebit(SEPA_ACCOUNTS.settles, { mandate: 'A' }), 1500));
    const closed = referenceOf(await h.authorize(sepaDebit(SEPA_ACCOUNTS.closed, { mandate: 'B' }), 700));
    h.setClock('2026-11-25T09:00:30.000Z');
    await h.operator.runDueCutoffs();
    const [file] = await h.operator.deliverFiles();
    const [answer] = h.bank.receive(h.files.delivered.get(file!.name)!);
    const tampered = answer!.content.replaceAll('15.00', '15.01');
    expect(await h.operator.ingest('tampered.xml', tampered, 'upload')).toMatchObject({ applied: 1, unmatched: 1 }); // only the return
    expect((await h.syncPayment(settles) as Ok).value.status).toBe('pending');
    expect(await h.operator.ingest(answer!.name, answer!.content, 'inbox')).toMatchObject({ applied: 1, unmatched: 0 });
    expect((await h.syncPayment(settles) as Ok).value.status).toBe('succeeded');
    expect((await h.syncPayment(closed) as Ok).value).toMatchObject({ status: 'failed', code: 'AC04' });
  });

  test('a file that is no status file is set aside and changes nothing', async () => {
    const h = harness();
    let rejected = 0;
    h.files.transport.receive = async () => [{ name: 'junk.txt', content: 'not a bank file', done: async () => undefined, reject: async () => void (rejected += 1) }];
    expect(await h.operator.receiveFiles()).toEqual([]);
    expect(rejected).toBe(1);
    await expect(h.operator.ingest('x.xml', '<?xml version="1.0"?><Document xmlns="urn:other"/>', 'upload')).rejects.toThrow('not a camt.054');
  });
});

describe('ACH', () => {
  test('entries settle by the calendar when no return came; sync agrees without the worker', async () => {
    const h = harness();
    const reference = referenceOf(await h.authorize(achDebit(ACH_ACCOUNTS.settles)));
    h.setClock('2026-11-25T20:00:30.000Z');
    await h.cutoffAndAnswer();
    expect((await h.syncPayment(reference) as Ok).value.status).toBe('pending');
    h.setClock('2026-12-01T00:00:01.000Z'); // effective 27 Nov (after Thanksgiving) + 2 banking days
    expect((await h.syncPayment(reference) as Ok).value.status).toBe('succeeded');
    expect(await h.operator.settleDue()).toEqual([{ kind: 'payment', reference, status: 'succeeded' }]);
    expect(await h.operator.settleDue()).toEqual([]);
  });

  test('a refund right after the calendar settled the debit (before the worker recorded it) goes through', async () => {
    const h = harness();
    const reference = referenceOf(await h.authorize(achDebit(ACH_ACCOUNTS.settles)));
    h.setClock('2026-11-25T20:00:30.000Z');
    await h.cutoffAndAnswer();
    h.setClock('2026-12-01T12:00:00.000Z');
    expect((await h.syncPayment(reference) as Ok).value.status).toBe('succeeded');
    expect((await refund(h, reference, 2000, 'USD') as Ok).value.status).toBe('pending');
    expect(await h.operator.settleDue()).toEqual([]);
    const [file] = await h.operator.files();
    expect(file).toMatchObject({ open: 0 });
    expect(file!.content).toBeUndefined();
  });

  test('R01 fails at once; R10 after settlement is a reversal', async () => {
    const h = harness();
    const noFunds = referenceOf(await h.authorize(achDebit(ACH_ACCOUNTS.noFunds)));
    const unauthorized = referenceOf(await h.authorize(achDebit(ACH_ACCOUNTS.unauthorized)));
    h.setClock('2026-11-25T20:00:30.000Z');
    await h.cutoffAndAnswer();
    expect((await h.syncPayment(noFunds) as Ok).value).toMatchObject({ status: 'failed', code: 'R01' });
    // Past its return window (the payments layer may have heard `succeeded` from sync), before the worker recorded it.
    h.setClock('2026-12-02T12:00:00.000Z');
    for (const answer of h.bank.later()) h.files.inbox.push(answer);
    const [result] = await h.operator.receiveFiles();
    expect(result!.outcomes).toEqual([{ kind: 'payment', reference: unauthorized, status: 'succeeded' }]);
    expect(result!.reversals).toEqual([unauthorized]);
    expect(await h.operator.settleDue()).toEqual([]);
    expect(await h.operator.openReversals()).toEqual([expect.objectContaining({ code: 'R10', currency: 'USD' })]);
  });

  test('a refund is an ACH credit (service class 220) that settles by the calendar; a bounced one fails with R02', async () => {
    const h = harness();
    const good = referenceOf(await h.authorize(achDebit(ACH_ACCOUNTS.settles, { type: 'savings' })));
    const bounces = referenceOf(await h.authorize(achDebit(ACH_ACCOUNTS.refundBounces)));
    h.setClock('2026-11-25T20:00:30.000Z');
    await h.cutoffAndAnswer();
    h.setClock('2026-12-01T12:00:00.000Z');
    await h.operator.settleDue();
    const refunds = [referenceOf(await refund(h, good, 500, 'USD')), referenceOf(await refund(h, bounces, 2000, 'USD'))];
    h.setClock('2026-12-01T20:00:30.000Z');
    await h.cutoffAndAnswer();
    const file = (await h.operator.files()).find((candidate) => candidate.createdAt.startsWith('2026-12-01'))!;
    const lines = h.files.delivered.get(file.name)!.split('\n');
    expect(lines.filter((line) => line.startsWith('5')).map((line) => line.slice(1, 4))).toEqual(['220']);
    expect(lines.filter((line) => line.startsWith('6')).map((line) => line.slice(1, 3)).sort()).toEqual(['22', '32']);
    expect((await h.syncRefund(refunds[1]!) as Ok).value).toMatchObject({ status: 'failed', code: 'R02' });
    h.setClock('2026-12-04T12:00:00.000Z');
    expect(await h.operator.settleDue()).toEqual([{ kind: 'refund', reference: refunds[0]!, status: 'succeeded' }]);
  });
});

describe('SEPA refunds', () => {
  test('a refund is a credit transfer at the next cut-off, succeeded when booked; one to a closed account fails', async () => {
    const h = harness();
    const good = referenceOf(await h.authorize(sepaDebit(SEPA_ACCOUNTS.settles, { mandate: 'G' })));
    const bounces = referenceOf(await h.authorize(sepaDebit(SEPA_ACCOUNTS.refundBounces, { mandate: 'B' })));
    h.setClock('2026-11-25T09:00:30.000Z');
    await h.cutoffAndAnswer();
    expect(await refund(h, good, 1, 'USD')).toMatchObject({ kind: 'result', value: { status: 'failed', code: 'currency_mismatch' } });
    expect(await refund(h, good, 2001)).toMatchObject({ kind: 'result', value: { status: 'failed', code: 'amount_too_large' } });
    const [first, second] = [referenceOf(await refund(h, good, 1000)), referenceOf(await refund(h, good, 1000))];
    expect(await refund(h, good, 1)).toMatchObject({ kind: 'result', value: { status: 'failed', code: 'amount_too_large' } });
    const bounced = referenceOf(await refund(h, bounces, 2000));
    expect((await h.syncRefund(first) as Ok).value.status).toBe('pending');
    h.setClock('2026-11-25T14:00:30.000Z');
    await h.cutoffAndAnswer();
    expect((await h.syncRefund(first) as Ok).value.status).toBe('succeeded');
    expect((await h.syncRefund(second) as Ok).value.status).toBe('succeeded');
    expect((await h.syncRefund(bounced) as Ok).value).toMatchObject({ status: 'failed', code: 'AC04' });
    // The bounced refund no longer counts: the payment may be refunded again.
    expect((await refund(h, bounces, 2000) as Ok).value.status).toBe('pending');
  });

  test('a refund after the refund window is refused; the account is gone from the state', async () => {
    const { h, reference } = await settledSepa(SEPA_ACCOUNTS.settles);
    h.setClock('2027-05-25T09:00:30.000Z');
    await h.operator.settleDue();
    expect((await h.state.get<{ account?: string }>(`payment:${reference}`))!.account).toBeUndefined();
    expect(await refund(h, reference, 100)).toMatchObject({ kind: 'result', value: { status: 'failed', code: 'refund_unavailable' } });
  });
});

describe('callbacks and logs', () => {
  test('outcomes become signed callbacks the connector verifies; anything altered is refused', async () => {
    const h = harness();
    const reference = referenceOf(await h.authorize(sepaDebit(SEPA_ACCOUNTS.noMandate)));
    h.setClock('2026-11-25T09:00:30.000Z');
    await h.operator.runDueCutoffs();
    const [file] = await h.operator.deliverFiles();
    const [answer] = h.bank.receive(h.files.delivered.get(file!.name)!);
    const { outcomes } = await h.operator.ingest(answer!.name, answer!.content, 'upload');
    const [event] = h.operator.events(outcomes);
    expect(event).toEqual({ eventId: expect.stringMatching(/^bfevt-/), kind: 'payment', reference, status: 'failed', code: 'MD01', message: expect.any(String) });
    const request = h.operator.callback(event!);
    expect(await h.processor.parseWebhook(request.clone() as Request)).toEqual(event);
    const body = await request.clone().text();
    const forged = new Request(request.url, { method: 'POST', headers: request.headers, body: body.replace('failed', 'succeeded') });
    await expect(h.processor.parseWebhook(forged)).rejects.toBeInstanceOf(WebhookSignatureError);
    await expect(h.processor.parseWebhook(new Request(request.url, { method: 'POST', body }))).rejects.toBeInstanceOf(WebhookSignatureError);
  });

  test('no account number reaches a log line', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _encoding, done) => void (lines.push(String(chunk)), done()) });
    const h = harness({ logger: createLogger({ level: 'debug', destination: sink }) });
    for (const iban of Object.values(SEPA_ACCOUNTS)) await h.authorize(sepaDebit(iban, { mandate: iban.slice(-6) }));
    for (const account of Object.values(ACH_ACCOUNTS)) await h.authorize(achDebit(account));
    h.setClock('2026-11-25T20:00:30.000Z');
    await h.cutoffAndAnswer();
    for (const answer of h.bank.later()) h.files.inbox.push(answer);
    h.files.inbox.push({ name: 'junk', content: 'junk' });
    await h.operator.receiveFiles();
    const text = lines.join('');
    expect(text).toContain('bank status file applied');
    for (const secret of [...Object.values(SEPA_ACCOUNTS), ...Object.values(ACH_ACCOUNTS)]) expect(text).not.toContain(secret);
  });
});
