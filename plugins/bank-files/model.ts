import { Type } from '@sinclair/typebox';
import type { PublicFile } from '../../processors/bank-files/index.ts';

/** Shapes of the bank-files admin routes (snake_case like the rest of the API). */

export const StatusFileUpload = Type.Object(
  {
    content: Type.String({ minLength: 1, maxLength: 60_000, description: 'The whole status file as text: camt.054 XML, or a NACHA return file (records separated by newlines).' }),
    filename: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9._-]+$', description: 'The name the bank gave the file, kept for support.' })),
  },
  { additionalProperties: false },
);

export const BankStatusFile = Type.Object({
  id: Type.String({ description: 'SHA-256 of the file: the same file is applied once, whichever way it arrives.' }),
  object: Type.Literal('bank_status_file'),
  name: Type.String(),
  format: Type.String({ description: '`camt.054.001.02`, `camt.054.001.04`, ... or `nacha`.' }),
  via: Type.String({ description: '`upload` or `inbox`: how it was first read.' }),
  items: Type.Integer({ description: 'Bookings and returns in the file.' }),
  applied: Type.Integer({ description: 'Of which changed a payment or refund, or started a reversal.' }),
  unmatched: Type.Integer({ description: "Of which matched nothing of ours (other transactions on the account, amounts that do not match): for a person to look at." }),
  duplicate: Type.Boolean(),
  received_at: Type.String(),
});

const Batch = Type.Object({ id: Type.String(), date: Type.String(), kind: Type.String(), entries: Type.Integer(), total: Type.Integer() });

export const BankFile = Type.Object({
  id: Type.String({ description: 'The message id (pain.008/pain.001 MsgId) or the NACHA file name.' }),
  object: Type.Literal('bank_file'),
  name: Type.String(),
  format: Type.String(),
  scheme: Type.String(),
  sha256: Type.String(),
  bytes: Type.Integer(),
  entries: Type.Integer(),
  total: Type.Integer({ description: 'Minor units.' }),
  currency: Type.String(),
  status: Type.Union([Type.Literal('built'), Type.Literal('delivered')]),
  deliveries: Type.Integer(),
  open_entries: Type.Integer({ description: 'Entries still waiting for the bank.' }),
  content_kept: Type.Boolean({ description: 'Whether the sealed bytes are still kept (until every entry has its answer).' }),
  batches: Type.Array(Batch),
  created_at: Type.String(),
  delivered_at: Type.Union([Type.String(), Type.Null()]),
});

export function apiFile(file: PublicFile) {
  return {
    id: file.id,
    object: 'bank_file' as const,
    name: file.name,
    format: file.format,
    scheme: file.scheme,
    sha256: file.sha256,
    bytes: file.bytes,
    entries: file.entries,
    total: file.total,
    currency: file.currency,
    status: file.status,
    deliveries: file.deliveries,
    open_entries: file.open,
    content_kept: file.content_kept,
    batches: file.batches,
    created_at: file.createdAt,
    delivered_at: file.deliveredAt ?? null,
  };
}

export const listOfFiles = Type.Object({ object: Type.Literal('list'), data: Type.Array(BankFile), has_more: Type.Boolean() });

export const FilesQuery = Type.Object(
  { limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$', description: 'How many files to return, 1 to 100 (default 20).' })) },
  { additionalProperties: false },
);
export const FileParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export const TraceParams = Type.Object({ reference: Type.String({ minLength: 1, maxLength: 64 }) });

const Nullable = <T extends ReturnType<typeof Type.Object> | ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

export const Trace = Type.Object({
  object: Type.Literal('bank_file_trace'),
  reference: Type.String(),
  kind: Type.Union([Type.Literal('payment'), Type.Literal('refund')]),
  status: Type.String({ description: '`queued` (waiting for the cut-off), `submitted`, `succeeded` or `failed`.' }),
  file: Nullable(Type.Object({ id: Type.String(), name: Type.String(), format: Type.String(), sha256: Type.String(), status: Type.String(), created_at: Type.String() })),
  batch: Nullable(Type.String()),
  entry_id: Nullable(Type.String({ description: 'SEPA end-to-end id, or ACH trace number.' })),
  date: Nullable(Type.String({ description: 'Collection, execution or effective entry date.' })),
  failure: Nullable(Type.Object({ code: Type.String(), message: Type.String() })),
});
