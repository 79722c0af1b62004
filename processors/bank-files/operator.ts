import type { Logger } from '../../runtime/logger.ts';
import type { ProcessorState } from '../sdk/index.ts';
import type { WebhookEvent } from '../sdk/model.ts';
import { isoDate } from './calendar.ts';
import { fileContent, runCutoff } from './cutoff.ts';
import { ingestStatusFile, type IngestResult } from './ingest.ts';
import type { BankFilesCredentials, FileRecord, PaymentRecord, RefundRecord, ReversalRecord } from './model.ts';
import { latestCutoff, settingsOf, type Settings } from './settings.ts';
import { signedCallbackRequest } from './signing.ts';
import { closeEntries, eventOf, isPaymentReference, keys, type Outcome, type Stream } from './store.ts';
import { directoryTransport, type BankTransport } from './transport.ts';

/**
 * Everything around the processor operations that a bank rail needs and a request never
 * triggers: cut-offs, delivery, reading status files, settlement by the calendar (ACH),
 * purging accounts after the refund window, and the reversals of returns after
 * settlement. The bank-files plugin runs it (worker and admin routes); the connector's
 * state and credentials come from the registered processor.
 */

export type OperatorOptions = {
  state: ProcessorState;
  credentials: BankFilesCredentials;
  logger: Logger;
  transport?: BankTransport;
  now?: () => number;
};

/** Where a payment or refund went: the chain payment -> batch -> file -> end-to-end id / trace number. */
export type Trace = {
  reference: string;
  kind: 'payment' | 'refund';
  status: string;
  file?: { id: string; name: string; format: string; sha256: string; status: string; createdAt: string };
  batch?: string;
  entryId?: string;
  date?: string;
  failure?: { code: string; message: string };
};

export type PublicFile = Omit<FileRecord, 'content' | 'batches'> & { batches: Array<Omit<FileRecord['batches'][number], 'references'>>; content_kept: boolean };

export function publicFile(file: FileRecord): PublicFile {
  const { content, batches, ...rest } = file;
  return { ...rest, batches: batches.map(({ references: _references, ...batch }) => batch), content_kept: content !== undefined };
}

export function createBankFilesOperator(options: OperatorOptions) {
  const { state, credentials, logger } = options;
  const now = options.now ?? Date.now;
  const settings: Settings = settingsOf(credentials);
  const transport = options.transport ?? directoryTransport({ outboxDir: credentials.outboxDir, inboxDir: credentials.inboxDir });
  const streams: Stream[] = [...(settings.sepa ? (['sepa-dd', 'sepa-ct'] as const) : []), ...(settings.ach ? (['ach'] as const) : [])];
  const cutoffsOf = (stream: Stream) => (stream === 'ach' ? settings.ach!.cutoffs : settings.sepa!.cutoffs);

  /** Runs each stream's cut-off that has passed since its last run. */
  async function runDueCutoffs(at = new Date(now())): Promise<FileRecord[]> {
    const files: FileRecord[] = [];
    for (const stream of streams) {
      const due = latestCutoff(cutoffsOf(stream), at);
      const last = await state.get<string>(keys.cutoff(stream));
      if (last && last >= due.toISOString()) continue;
      files.push(...(await runCutoff({ state, settings }, stream, due)));
    }
    return files;
  }

  async function deliver(file: FileRecord): Promise<FileRecord> {
    const content = fileContent(settings, file);
    if (content === undefined) throw new Error(`File ${file.id} no longer keeps its bytes.`);
    await transport.deliver({ name: file.name, content });
    return state.transaction(async (tx) => {
      const fresh = (await tx.get<FileRecord>(keys.file(file.id)))!;
      fresh.status = 'delivered';
      fresh.deliveredAt ??= new Date(now()).toISOString();
      fresh.deliveries += 1;
      await tx.put(keys.file(file.id), fresh);
      await tx.delete(keys.outbox(file.id));
      logger.info({ bank_file: file.id, format: file.format, entries: file.entries, sha256: file.sha256 }, 'bank file delivered');
      return fresh;
    });
  }

  /** Hands every built file to the transport; a failure is retried with the same bytes next time. */
  async function deliverFiles(): Promise<FileRecord[]> {
    const delivered: FileRecord[] = [];
    for (const { value: id } of await state.list<string>('outbox:')) {
      const file = await state.get<FileRecord>(keys.file(id));
      if (!file) continue;
      try {
        delivered.push(await deliver(file));
      } catch (error) {
        logger.error({ bank_file: id, error: error instanceof Error ? error.name : 'Error' }, 'bank file delivery failed; retried at the next run');
      }
    }
    return delivered;
  }

  /** Delivers a file's stored bytes again (support: the bank channel lost it). */
  async function resend(id: string): Promise<FileRecord | undefined> {
    const file = await state.get<FileRecord>(keys.file(id));
    return file && deliver(file);
  }

  const ingest = (name: string, content: string, via: 'inbox' | 'upload') => ingestStatusFile({ state, settings, now, logger }, { name, content, via });

  async function receiveFiles(): Promise<IngestResult[]> {
    const results: IngestResult[] = [];
    for (const file of await transport.receive()) {
      try {
        results.push(await ingest(file.name, file.content, 'inbox'));
        await file.done();
      } catch (error) {
        if (!(error instanceof Error && error.name === 'StatusFileError')) throw error;
        logger.warn({ status_file: file.name, reason: error.message }, 'bank status file rejected: moved to inbox/rejected');
        await file.reject();
      }
    }
    return results;
  }

  /** ACH entries no return came for by their date are settled; accounts past the refund window are deleted. */
  async function settleDue(at = new Date(now())): Promise<Outcome[]> {
    const today = isoDate(at);
    const outcomes: Outcome[] = [];
    for (const { key, value: reference } of await state.list<string>('achdue:')) {
      if (key.slice('achdue:'.length, 'achdue:'.length + 10) > today) break;
      const outcome = await state.transaction(async (tx) => {
        await tx.delete(key);
        const payment = isPaymentReference(reference);
        const record = await tx.get<PaymentRecord | RefundRecord>(payment ? keys.payment(reference) : keys.refund(reference));
        if (!record || record.status !== 'submitted') return undefined;
        record.status = 'succeeded';
        await tx.put(payment ? keys.payment(reference) : keys.refund(reference), record);
        if (record.placement) await closeEntries(tx, record.placement.file, 1);
        return { kind: payment ? 'payment' : 'refund', reference, status: 'succeeded' } as Outcome;
      });
      if (outcome) outcomes.push(outcome);
    }
    for (const { key, value: reference } of await state.list<string>('purge:')) {
      if (key.slice('purge:'.length, 'purge:'.length + 24) > at.toISOString()) break;
      await state.transaction(async (tx) => {
        await tx.delete(key);
        const record = await tx.get<PaymentRecord>(keys.payment(reference));
        if (!record?.account) return;
        delete record.account;
        await tx.put(keys.payment(reference), record);
      });
    }
    return outcomes;
  }

  async function openReversals(): Promise<ReversalRecord[]> {
    return (await state.list<ReversalRecord>('reversal:')).map(({ value }) => value).filter((reversal) => reversal.status === 'open');
  }

  /** Takes a reversal for five minutes, so two workers never turn one return into two refunds. */
  async function claimReversal(paymentReference: string): Promise<boolean> {
    return state.transaction(async (tx) => {
      const reversal = await tx.get<ReversalRecord>(keys.reversal(paymentReference));
      if (!reversal || reversal.status === 'done' || (reversal.claimedUntil ?? 0) > now()) return false;
      await tx.put(keys.reversal(paymentReference), { ...reversal, claimedUntil: now() + 300_000 });
      return true;
    });
  }

  async function settleReversal(paymentReference: string, result: { done: boolean; refund?: string; note?: string }): Promise<void> {
    await state.transaction(async (tx) => {
      const reversal = await tx.get<ReversalRecord>(keys.reversal(paymentReference));
      if (!reversal || reversal.status === 'done') return;
      reversal.attempts += 1;
      delete reversal.claimedUntil;
      if (result.done) reversal.status = 'done';
      if (result.refund) reversal.refund = result.refund;
      if (result.note) reversal.note = result.note;
      await tx.put(keys.reversal(paymentReference), reversal);
    });
  }

  async function trace(reference: string): Promise<Trace | undefined> {
    const kind = isPaymentReference(reference) ? 'payment' : 'refund';
    const record = await state.get<PaymentRecord | RefundRecord>(kind === 'payment' ? keys.payment(reference) : keys.refund(reference));
    if (!record) return undefined;
    const file = record.placement ? await state.get<FileRecord>(keys.file(record.placement.file)) : undefined;
    return {
      reference,
      kind,
      status: record.status,
      ...(file ? { file: { id: file.id, name: file.name, format: file.format, sha256: file.sha256, status: file.status, createdAt: file.createdAt } } : {}),
      ...(record.placement ? { batch: record.placement.batch, entryId: record.placement.entryId, date: record.placement.date } : {}),
      ...(record.failure ? { failure: record.failure } : {}),
    };
  }

  async function files(limit = 100): Promise<FileRecord[]> {
    return (await state.list<FileRecord>('file:', 10_000)).map(({ value }) => value).sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id)).slice(0, limit);
  }

  return {
    settings,
    streams,
    runDueCutoffs,
    runCutoff: (stream: Stream, at: Date) => runCutoff({ state, settings }, stream, at),
    deliverFiles,
    resend,
    ingest,
    receiveFiles,
    settleDue,
    openReversals,
    claimReversal,
    settleReversal,
    trace,
    files,
    file: (id: string) => state.get<FileRecord>(keys.file(id)),
    events: (outcomes: readonly Outcome[]): WebhookEvent[] => outcomes.map(eventOf),
    /** The signed in-process callback of an event, for POST /v1/processors/bank-files/webhooks. */
    callback: (event: WebhookEvent) => signedCallbackRequest(settings.keys.callback, event, now()),
  };
}

export type BankFilesOperator = ReturnType<typeof createBankFilesOperator>;
