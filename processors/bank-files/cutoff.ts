import { createHash } from 'node:crypto';
import type { ProcessorState, ProcessorStateTx } from '../sdk/index.ts';
import { buildAch, buildSepaDebits, buildSepaRefunds, type Built, type Item } from './files.ts';
import type { AccountDetails, FileRecord, PaymentRecord, RefundRecord } from './model.ts';
import { achSettlesOn } from './operations.ts';
import { seal, unseal } from './seal.ts';
import type { Settings } from './settings.ts';
import { keys, nextCounter, type Stream } from './store.ts';

/**
 * A cut-off: every entry queued on a stream up to the cut-off instant goes into one file
 * (or several, 1000 entries each), built once in one state transaction that also marks
 * the entries submitted, records where each sits (file, batch, end-to-end id or trace
 * number) and stores the file's bytes sealed with their SHA-256. Whatever happens after
 * (delivery fails, the process dies), the same bytes are what gets delivered: a file is
 * never rebuilt. Entries are locked before anything else, so two workers running the
 * same cut-off cannot file one entry twice.
 */

export type CutoffDeps = { state: ProcessorState; settings: Settings };

const CHUNK = 1000;
const TAG: Record<Stream, string> = { 'sepa-dd': 'SDD', 'sepa-ct': 'SCT', ach: 'ACH' };
const MODIFIERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const ISO_LENGTH = '2026-01-01T00:00:00.000Z'.length;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * `NBF-SDD-20261125-000042-1a2b3c`: stream, day, a running number, and a hash of the
 * entries, so two files can never share a message id even if two first-ever runs raced
 * on the counter. 30 characters, inside the SEPA set and MsgId's 35.
 */
function messageId(stream: Stream, at: Date, sequence: number, references: readonly string[]): string {
  const day = at.toISOString().slice(0, 10).replaceAll('-', '');
  return `NBF-${TAG[stream]}-${day}-${String(sequence).padStart(6, '0')}-${sha256(references.join(',')).slice(0, 6)}`;
}

async function lockedItems(tx: ProcessorStateTx, settings: Settings, queued: Array<{ key: string; value: string }>): Promise<Item[]> {
  const items: Item[] = [];
  for (const { key, value: reference } of queued) {
    await tx.delete(key);
    const isRefund = reference.startsWith('bfr-');
    const record = await tx.get<PaymentRecord | RefundRecord>(isRefund ? keys.refund(reference) : keys.payment(reference));
    if (!record || record.status !== 'queued') continue; // filed by another run, or settled meanwhile
    const payment = isRefund ? await tx.get<PaymentRecord>(keys.payment((record as RefundRecord).paymentReference)) : (record as PaymentRecord);
    if (!payment?.account) continue;
    items.push({ record, account: unseal<AccountDetails>(settings.keys.seal, keys.payment(payment.reference), payment.account) });
  }
  return items;
}

async function build(tx: ProcessorStateTx, settings: Settings, stream: Stream, at: Date, items: Item[]): Promise<Built> {
  const sepaId = async () => messageId(stream, at, await nextCounter(tx, `file:${stream}`), items.map((item) => item.record.reference));
  switch (stream) {
    case 'sepa-dd':
      return buildSepaDebits(settings, await sepaId(), at, items);
    case 'sepa-ct':
      return buildSepaRefunds(settings, await sepaId(), at, items);
    case 'ach': {
      // An ACH file is told apart by its creation date and id modifier (A-Z, 0-9): 36 a day.
      const day = at.toISOString().slice(0, 10).replaceAll('-', '');
      const modifier = MODIFIERS[(await nextCounter(tx, `ach-modifier:${day}`)) - 1];
      if (!modifier) throw new Error('More than 36 ACH files in one day: the file id modifier is exhausted.');
      let next = await nextCounter(tx, 'ach-trace');
      await tx.put(keys.counter('ach-trace'), next + items.length - 1);
      const odfi = settings.ach!.odfi;
      return buildAch(settings, `NBF-ACH-${day}-${modifier}`, modifier, at, items, () => `${odfi}${String(next++ % 10_000_000).padStart(7, '0')}`);
    }
  }
}

/** Marks each entry submitted where it sits; keeps a debit's account (sealed) only for the refund window. */
async function recordPlacement(tx: ProcessorStateTx, settings: Settings, built: Built, items: Item[], at: Date): Promise<void> {
  const retainUntil = new Date(at.getTime() + settings.refundWindowDays * 86_400_000).toISOString();
  for (const { record } of items) {
    const placement = built.placements.get(record.reference)!;
    record.status = 'submitted';
    record.placement = placement;
    if (!('paymentReference' in record)) {
      if (settings.refundWindowDays > 0) {
        record.retainAccountUntil = retainUntil;
        await tx.put(keys.purge(retainUntil, record.reference), record.reference);
      } else delete record.account;
    }
    await tx.put('paymentReference' in record ? keys.refund(record.reference) : keys.payment(record.reference), record);
    if (record.scheme === 'ach') {
      await tx.put(keys.trace(placement.entryId), record.reference);
      await tx.put(keys.achDue(achSettlesOn(settings, placement.date), record.reference), record.reference);
    }
  }
}

/** Builds the files of one stream for everything queued up to `at`. Returns the files built. */
export async function runCutoff({ state, settings }: CutoffDeps, stream: Stream, at: Date): Promise<FileRecord[]> {
  const prefix = keys.queuePrefix(stream);
  const until = at.toISOString();
  const files: FileRecord[] = [];
  for (;;) {
    const due = (await state.list<string>(prefix, CHUNK)).filter(({ key }) => key.slice(prefix.length, prefix.length + ISO_LENGTH) <= until);
    if (due.length === 0) break;
    const file = await state.transaction(async (tx) => {
      const items = await lockedItems(tx, settings, due);
      if (items.length === 0) return undefined;
      const built = await build(tx, settings, stream, at, items);
      await recordPlacement(tx, settings, built, items, at);
      const id = built.name.replace(/\.[a-z]+$/, '');
      const record: FileRecord = {
        id,
        name: built.name,
        format: built.format,
        scheme: stream === 'ach' ? 'ach' : 'sepa',
        createdAt: until,
        sha256: sha256(built.content),
        bytes: Buffer.byteLength(built.content),
        entries: items.length,
        total: built.batches.reduce((sum, batch) => sum + batch.total, 0),
        currency: stream === 'ach' ? 'USD' : 'EUR',
        batches: built.batches,
        status: 'built',
        deliveries: 0,
        open: items.length,
        content: seal(settings.keys.seal, keys.file(id), built.content),
      };
      await tx.put(keys.file(id), record);
      await tx.put(keys.outbox(id), id);
      for (const batch of built.batches) await tx.put(keys.batch(batch.id), id);
      return record;
    });
    if (file) files.push(file);
    else if (due.length < CHUNK) break;
  }
  await state.transaction((tx) => tx.put(keys.cutoff(stream), until));
  return files;
}

/** The exact bytes of a file that still has them (until every entry in it has its outcome). */
export function fileContent(settings: Settings, file: FileRecord): string | undefined {
  return file.content ? unseal<string>(settings.keys.seal, keys.file(file.id), file.content) : undefined;
}
