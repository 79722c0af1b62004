import { createHash } from 'node:crypto';
import type { ProcessorStateTx } from '../sdk/index.ts';
import type { WebhookEvent } from '../sdk/model.ts';
import type { FileRecord } from './model.ts';

/**
 * Keys of the connector's processor state (JSON by key, namespaced to `bank-files`):
 *
 *   payment:<ref>, refund:<ref>           one record per debit and per refund
 *   queue:<stream>:<queued at>:<ref>      waiting for the stream's next cut-off
 *   file:<id>, batch:<PmtInfId>           files built (sealed bytes, hash) and their batches
 *   trace:<trace number>                  ACH entry -> payment or refund
 *   mandate:<creditor id>:<mandate ref>   which collection was the mandate's first
 *   achdue:<date>:<ref>                   ACH entries that count as settled on that date
 *   reversal:<payment ref>                returns after settlement, waiting to become refunds
 *   inbound:<sha256>                      status files read (dedupe)
 *   outbox:<file id>                      files built but not yet handed to the transport
 *   purge:<until>:<ref>                   when a debit's sealed account is deleted (refund window)
 *   counter:<name>, cutoff:<stream>       message id sequences, last cut-off run
 */
export type Stream = 'sepa-dd' | 'sepa-ct' | 'ach';

export const keys = {
  payment: (reference: string) => `payment:${reference}`,
  refund: (reference: string) => `refund:${reference}`,
  queue: (stream: Stream, queuedAt: string, reference: string) => `queue:${stream}:${queuedAt}:${reference}`,
  queuePrefix: (stream: Stream) => `queue:${stream}:`,
  file: (id: string) => `file:${id}`,
  batch: (id: string) => `batch:${id}`,
  trace: (trace: string) => `trace:${trace}`,
  mandate: (creditorId: string, reference: string) => `mandate:${creditorId}:${reference}`,
  achDue: (date: string, reference: string) => `achdue:${date}:${reference}`,
  reversal: (paymentReference: string) => `reversal:${paymentReference}`,
  inbound: (sha256: string) => `inbound:${sha256}`,
  counter: (name: string) => `counter:${name}`,
  cutoff: (stream: Stream) => `cutoff:${stream}`,
  outbox: (fileId: string) => `outbox:${fileId}`,
  purge: (until: string, reference: string) => `purge:${until}:${reference}`,
};

const digest = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * References derive from the idempotency key, so a replay names the same object. They
 * double as SEPA end-to-end ids: hyphen and lowercase hex only, inside the SEPA character
 * set and its 35 characters.
 */
export function referenceFor(kind: 'payment' | 'refund', idempotencyKey: string): string {
  return `${kind === 'payment' ? 'bfp' : 'bfr'}-${digest(`${kind}\u0000${idempotencyKey}`).slice(0, 24)}`;
}

export const isPaymentReference = (value: string) => /^bfp-[0-9a-f]{24}$/.test(value);
export const isRefundReference = (value: string) => /^bfr-[0-9a-f]{24}$/.test(value);

/** The 15 characters an ACH entry carries as "individual identification number": from the reference, upper case. */
export function individualIdOf(reference: string): string {
  return reference.slice(4, 19).toUpperCase();
}

export async function nextCounter(tx: ProcessorStateTx, name: string): Promise<number> {
  const value = ((await tx.get<number>(keys.counter(name))) ?? 0) + 1;
  await tx.put(keys.counter(name), value);
  return value;
}

/** A final outcome the connector learned from the bank, for the payments layer. */
export type Outcome =
  | { kind: 'payment' | 'refund'; reference: string; status: 'succeeded' }
  | { kind: 'payment' | 'refund'; reference: string; status: 'failed'; code: string; message: string };

/** The callback of an outcome; the event id is stable, so the route dedupes repeats. */
export function eventOf(outcome: Outcome): WebhookEvent {
  const eventId = `bfevt-${digest(`${outcome.kind}:${outcome.reference}:${outcome.status}`).slice(0, 24)}`;
  return outcome.status === 'failed'
    ? { eventId, kind: outcome.kind, reference: outcome.reference, status: 'failed', code: outcome.code, message: outcome.message }
    : { eventId, kind: outcome.kind, reference: outcome.reference, status: 'succeeded' };
}

/** `count` entries of a file got their outcome; at zero open entries its sealed bytes are dropped (the hash stays). */
export async function closeEntries(tx: ProcessorStateTx, fileId: string, count: number): Promise<void> {
  const file = await tx.get<FileRecord>(keys.file(fileId));
  if (!file) return;
  file.open = Math.max(0, file.open - count);
  if (file.open === 0) delete file.content;
  await tx.put(keys.file(fileId), file);
}
