import { describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import type { PaymentMethodInput } from '../../runtime/registry/index.ts';
import { ACH_ACCOUNTS, SEPA_ACCOUNTS } from './testing/bank.ts';
import { achDebit, harness, sepaDebit } from './testing/fixtures.ts';
import { validate } from './testing/xsd.ts';
import { parseXml, textAt } from './xml.ts';

/**
 * The connector from authorize to the bank's answer, on memory state with the real call
 * wrapper: queueing, cut-offs, files built once, sequence types, what the state holds.
 */

type Ok = { kind: 'result'; value: { status: string; reference: string } };
const referenceOf = (outcome: unknown) => (outcome as Ok).value.reference;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Every value in the connector's state, as one string: what a database dump would show. */
async function stateText(h: ReturnType<typeof harness>): Promise<string> {
  return JSON.stringify(await h.state.list('', 100_000));
}

const SECRETS = [...Object.values(SEPA_ACCOUNTS), ...Object.values(ACH_ACCOUNTS), '370400440532013'];

describe('authorize', () => {
  test('queues a debit: pending, and sync says pending until the bank answers', async () => {
    const h = harness();
    const outcome = await h.authorize(sepaDebit(SEPA_ACCOUNTS.settles));
    expect(outcome).toEqual({ kind: 'result', value: { status: 'pending', reference: expect.stringMatching(/^bfp-[0-9a-f]{24}$/) } });
    expect(await h.syncPayment(referenceOf(outcome))).toMatchObject({ kind: 'result', value: { status: 'pending' } });
    expect(await h.caller.call(h.processor, 'sync', { kind: 'payment', idempotencyKey: 'never-used' })).toMatchObject({ kind: 'result', value: { status: 'not_found' } });
  });

  test('the same key replays the same reference and queues once; other parameters under it are refused', async () => {
    const h = harness();
    const first = await h.authorize(sepaDebit(SEPA_ACCOUNTS.settles), 2000, 'same-key');
    const again = await h.authorize(sepaDebit(SEPA_ACCOUNTS.settles), 2000, 'same-key');
    expect(again).toEqual(first);
    expect(await h.caller.call(h.processor, 'sync', { kind: 'payment', idempotencyKey: 'same-key' })).toMatchObject({ kind: 'result', value: { reference: referenceOf(first) } });
    expect((await h.state.list('queue:')).length).toBe(1);
    expect(await h.authorize(sepaDebit(SEPA_ACCOUNTS.settles), 2001, 'same-key')).toMatchObject({ kind: 'error', retryable: false, code: 'idempotency_key_reused' });
  });

  test('refuses what a debit file cannot do, without failover (not retryable)', async () => {
    const h = harness();
    const sepaTransfer = { type: 'bank_transfer', bank_transfer: { scheme: 'sepa', iban: SEPA_ACCOUNTS.settles, account_holder_name: 'Jane' } } as PaymentMethodInput;
    const call = (paymentMethod: PaymentMethodInput, currency: string, capture = true) =>
      h.caller.call(h.processor, 'authorize', { idempotencyKey: h.key(), amount: 100, currency, capture, paymentMethod });
    expect(await call(sepaTransfer, 'EUR')).toMatchObject({ kind: 'error', retryable: false, code: 'payment_method_unsupported' });
    expect(await call(sepaDebit(SEPA_ACCOUNTS.settles), 'EUR', false)).toMatchObject({ kind: 'error', retryable: false, code: 'capture_method_unsupported' });
    expect(await call(achDebit(ACH_ACCOUNTS.settles), 'EUR')).toMatchObject({ kind: 'error', retryable: false, code: 'currency_unsupported' });
    const sepaOnly = harness({ credentials: { achCompanyId: undefined } });
    expect(await sepaOnly.authorize(achDebit(ACH_ACCOUNTS.settles))).toMatchObject({ kind: 'error', retryable: false, code: 'scheme_not_configured' });
    const reference = referenceOf(await h.authorize(sepaDebit(SEPA_ACCOUNTS.settles)));
    expect(await h.caller.call(h.processor, 'capture', { idempotencyKey: h.key(), reference, amount: 100, currency: 'EUR' })).toMatchObject({ kind: 'result', value: { status: 'failed' } });
    expect(await h.caller.call(h.processor, 'cancel', { idempotencyKey: h.key(), reference })).toMatchObject({ kind: 'result', value: { status: 'failed' } });
  });

  test('the first collection under a mandate is FRST, later ones RCUR; a failed first makes the next FRST again', async () => {
    const h = harness();
    await h.authorize(sepaDebit(SEPA_ACCOUNTS.closed, { mandate: 'M-1' }));
    await h.authorize(sepaDebit(SEPA_ACCOUNTS.settles, { mandate: 'M-2' }));
    await h.authorize(sepaDebit(SEPA_ACCOUNTS.settles, { mandate: 'M-2' }));
    h.setClock('2026-11-25T09:00:30.000Z');
    await h.cutoffAndAnswer();
    const xml = h.files.delivered.get([...h.files.delivered.keys()][0]!)!;
    expect([...xml.matchAll(/<SeqTp>(\w+)<\/SeqTp>/g)].map((match) => match[1]).sort()).toEqual(['FRST', 'RCUR']);
    expect(xml.match(/<NbOfTxs>/g)).toHaveLength(3); // the group header and two payment information blocks
    const retry = referenceOf(await h.authorize(sepaDebit(SEPA_ACCOUNTS.settles, { mandate: 'M-1' })));
    const record = await h.state.get<{ sepa: { sequenceType: string } }>(`payment:${retry}`);
    expect(record!.sepa.sequenceType).toBe('FRST');
  });

  test('a one-off mandate is collected once (OOFF), a second use is refused', async () => {
    const h = harness({ credentials: { sepaMandateType: 'one_off' } });
    const reference = referenceOf(await h.authorize(sepaDebit(SEPA_ACCOUNTS.settles, { mandate: 'ONCE' })));
    expect((await h.state.get<{ sepa: { sequenceType: string } }>(`payment:${reference}`))!.sepa.sequenceType).toBe('OOFF');
    expect(await h.authorize(sepaDebit(SEPA_ACCOUNTS.settles, { mandate: 'ONCE' }))).toMatchObject({ kind: 'error', code: 'mandate_already_used' });
  });
});

describe('cut-offs and files', () => {
  test('a payment queued after a cut-off waits for the next; a cut-off runs once', async () => {
    const h = harness();
    await h.authorize(sepaDebit(SEPA_ACCOUNTS.settles, { mandate: 'EARLY' }));
    h.setClock('2026-11-25T09:00:30.000Z');
    const late = referenceOf(await h.authorize(sepaDebit(SEPA_ACCOUNTS.settles, { mandate: 'LATE' })));
    const [first, ...none] = await h.operator.runDueCutoffs();
    expect(none).toEqual([]);
    expect(first).toMatchObject({ entries: 1, createdAt: '2026-11-25T09:00:00.000Z', format: 'pain.008.001.02', status: 'built' });
    expect(await h.operator.runDueCutoffs()).toEqual([]);
    h.setClock('2026-11-25T14:00:00.000Z');
    const [second] = await h.operator.runDueCutoffs();
    expect(second!.batches[0]!.references).toEqual([late]);
    expect(second!.batches[0]!.date).toBe('2026-11-26');
    expect(second!.id).not.toBe(first!.id);
  });

  test('a file is built once: a failed delivery retries with the same bytes, a resend too', async () => {
    const h = harness();
    await h.authorize(sepaDebit(SEPA_ACCOUNTS.settles));
    await h.authorize(achDebit(ACH_ACCOUNTS.settles));
    h.setClock('2026-11-25T20:00:30.000Z');
    const built = await h.operator.runDueCutoffs();
    expect(built.map((file) => file.format).sort()).toEqual(['nacha', 'pain.008.001.02']);
    const deliver = h.files.transport.deliver;
    h.files.transport.deliver = async () => {
      throw new Error('SFTP mount not there');
    };
    expect(await h.operator.deliverFiles()).toEqual([]);
    h.files.transport.deliver = deliver;
    const delivered = await h.operator.deliverFiles();
    expect(delivered.map((file) => file.status)).toEqual(['delivered', 'delivered']);
    for (const file of built) expect(sha256(h.files.delivered.get(file.name)!)).toBe(file.sha256);
    expect(await h.operator.deliverFiles()).toEqual([]);
    const sepa = built.find((file) => file.scheme === 'sepa')!;
    h.files.delivered.delete(sepa.name);
    expect((await h.operator.resend(sepa.id))!.deliveries).toBe(2);
    expect(sha256(h.files.delivered.get(sepa.name)!)).toBe(sepa.sha256);
    expect(await h.operator.runDueCutoffs()).toEqual([]);
  });

  test('message ids are unique, and a payment traces to its batch, file and end-to-end id', async () => {
    const h = harness();
    const reference = referenceOf(await h.authorize(sepaDebit(SEPA_ACCOUNTS.settles)));
    h.setClock('2026-11-25T09:00:30.000Z');
    const [file] = await h.operator.runDueCutoffs();
    await h.authorize(sepaDebit(SEPA_ACCOUNTS.settles, { mandate: 'OTHER' }));
    h.setClock('2026-11-25T14:00:30.000Z');
    const [next] = await h.operator.runDueCutoffs();
    expect(file!.id).toMatch(/^NBF-SDD-20261125-000001-[0-9a-f]{6}$/);
    expect(next!.id).toMatch(/^NBF-SDD-20261125-000002-[0-9a-f]{6}$/);
    expect(await h.operator.trace(reference)).toMatchObject({
      reference,
      kind: 'payment',
      status: 'submitted',
      file: { id: file!.id, sha256: file!.sha256, format: 'pain.008.001.02' },
      batch: `${file!.id}-001`,
      entryId: reference,
      date: '2026-11-26',
    });
    await h.operator.deliverFiles();
    const xml = parseXml(h.files.delivered.get(file!.name)!);
    expect(textAt(xml, 'CstmrDrctDbtInitn', 'GrpHdr', 'MsgId')).toBe(file!.id);
    expect(textAt(xml, 'CstmrDrctDbtInitn', 'PmtInf', 'DrctDbtTxInf', 'PmtId', 'EndToEndId')).toBe(reference);
  });

  test('no account number is readable in the state, before or after its file; the file bytes go once all entries are answered', async () => {
    const h = harness();
    for (const iban of Object.values(SEPA_ACCOUNTS)) await h.authorize(sepaDebit(iban, { mandate: iban.slice(-4) }));
    for (const account of Object.values(ACH_ACCOUNTS)) await h.authorize(achDebit(account));
    for (const secret of SECRETS) expect(await stateText(h)).not.toContain(secret);
    h.setClock('2026-11-25T20:00:30.000Z');
    await h.cutoffAndAnswer();
    for (const secret of SECRETS) expect(await stateText(h)).not.toContain(secret);
    const [sepa] = (await h.operator.files()).filter((file) => file.scheme === 'sepa');
    expect(sepa!.open).toBe(0);
    expect(sepa!.content).toBeUndefined();
    const [ach] = (await h.operator.files()).filter((file) => file.scheme === 'ach');
    expect(ach!.open).toBe(3); // two returned at once; three wait for the calendar
    expect(ach!.content).toBeDefined();
  });

  test('without a refund window the account is dropped as soon as the file is built', async () => {
    const h = harness({ credentials: { refundWindowDays: 0 } });
    const reference = referenceOf(await h.authorize(sepaDebit(SEPA_ACCOUNTS.settles)));
    expect((await h.state.get<{ account?: string }>(`payment:${reference}`))!.account).toBeString();
    h.setClock('2026-11-25T09:00:30.000Z');
    await h.cutoffAndAnswer();
    expect((await h.state.get<{ account?: string }>(`payment:${reference}`))!.account).toBeUndefined();
    expect(await h.caller.call(h.processor, 'refund', { idempotencyKey: h.key(), reference, amount: 100, currency: 'EUR' })).toMatchObject({
      kind: 'result',
      value: { status: 'failed', code: 'refund_unavailable' },
    });
  });

  test('a refund file (pain.001.001.03) validates against its schema', async () => {
    const h = harness();
    const reference = referenceOf(await h.authorize(sepaDebit(SEPA_ACCOUNTS.settles, { name: 'Zoë Ærø' })));
    h.setClock('2026-11-25T09:00:30.000Z');
    await h.cutoffAndAnswer();
    await h.caller.call(h.processor, 'refund', { idempotencyKey: h.key(), reference, amount: 500, currency: 'EUR' });
    h.setClock('2026-11-25T14:00:30.000Z');
    const [file] = await h.operator.runDueCutoffs();
    expect(file!.format).toBe('pain.001.001.03');
    await h.operator.deliverFiles();
    const result = await validate('pain.001.001.03', h.files.delivered.get(file!.name)!);
    expect(result.errors).toEqual([]);
  });
});
