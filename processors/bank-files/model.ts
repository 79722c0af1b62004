import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { BIC_PATTERN } from './identifiers.ts';

/** The two rails of this connector, each configured on its own. */
export type Scheme = 'sepa' | 'ach';

/** Cut-off times of a day, UTC, comma-separated: `09:00,14:30`. */
const CUTOFFS = '^([01][0-9]|2[0-3]):[0-5][0-9](,([01][0-9]|2[0-3]):[0-5][0-9])*$';

const common = {
  /** >= 32 characters (e.g. `openssl rand -base64 32`): seals accounts and files in the state, keys the callbacks. */
  stateKey: Type.String({ minLength: 32 }),
  outboxDir: Type.String({ minLength: 1, default: '.nimbus/bank-files/outbox' }),
  inboxDir: Type.String({ minLength: 1, default: '.nimbus/bank-files/inbox' }),
  /** How often the worker looks for due cut-offs, undelivered files and new status files. */
  pollMs: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 60_000 }),
  /** Days after a debit's file is built during which the account is kept (sealed) to pay refunds to; 0: refunds are refused. */
  refundWindowDays: Type.Integer({ minimum: 0, maximum: 800, default: 180 }),
};

const sepa = {
  sepaCreditorId: Type.String({ pattern: '^[A-Z]{2}[0-9]{2}[A-Z0-9]{3}[A-Z0-9]{1,28}$' }),
  sepaCreditorName: Type.String({ minLength: 1, maxLength: 70 }),
  sepaCreditorIban: Type.String({ pattern: '^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$' }),
  sepaCreditorBic: Type.Optional(Type.String({ pattern: BIC_PATTERN })),
  sepaCutoffs: Type.String({ pattern: CUTOFFS, default: '09:00' }),
  /** TARGET2 days between a cut-off and the collection date it asks for (D-1 under the Core rulebook; some banks want 2). */
  sepaLeadDays: Type.Integer({ minimum: 1, maximum: 14, default: 1 }),
  /** `recurring` (FRST, then RCUR under the same mandate) or `one_off` (OOFF, one collection per mandate). */
  sepaMandateType: Type.Union([Type.Literal('recurring'), Type.Literal('one_off')], { default: 'recurring' }),
};

const ach = {
  /** The ODFI's routing number (the file header's immediate destination). */
  achDestinationRouting: Type.String({ pattern: '^[0-9]{9}$' }),
  achDestinationName: Type.String({ minLength: 1, maxLength: 23 }),
  /** Immediate origin, as the ODFI assigned it (often `1` + the EIN, or a routing number). */
  achOrigin: Type.String({ pattern: '^[0-9A-Z]{9,10}$' }),
  achOriginName: Type.String({ minLength: 1, maxLength: 23 }),
  achCompanyName: Type.String({ minLength: 1, maxLength: 16 }),
  achCompanyId: Type.String({ pattern: '^[0-9A-Z]{10}$' }),
  /** First eight digits of the ODFI routing number in trace numbers (default: from achDestinationRouting). */
  achOdfi: Type.Optional(Type.String({ pattern: '^[0-9]{8}$' })),
  achEntryDescription: Type.String({ minLength: 1, maxLength: 10, default: 'PAYMENT' }),
  /** The Standard Entry Class of debits: CCD (business accounts, the B2B default) or PPD (consumers). */
  achSecCode: Type.Union([Type.Literal('CCD'), Type.Literal('PPD')], { default: 'CCD' }),
  achCutoffs: Type.String({ pattern: CUTOFFS, default: '20:00' }),
  /** Banking days between a cut-off and the effective entry date. */
  achLeadDays: Type.Integer({ minimum: 1, maximum: 5, default: 1 }),
  /** Banking days after the effective date without a return before an entry counts as settled. */
  achSettlementDays: Type.Integer({ minimum: 1, maximum: 10, default: 2 }),
};

const Common = Type.Object(common);
const Sepa = Type.Object(sepa);
const Ach = Type.Object(ach);

/**
 * Credentials and settings of both schemes, each optional: the connector's one type. The
 * schema a deployment is checked against ({@link credentialsSchema}) requires the fields
 * of the schemes it turns on.
 */
export const BankFilesCredentials = Type.Composite([Common, Type.Partial(Sepa), Type.Partial(Ach)]);
export type BankFilesCredentials = Static<typeof BankFilesCredentials>;

export function credentialsSchema(schemes: readonly Scheme[]): TSchema {
  return Type.Composite([Common, schemes.includes('sepa') ? Sepa : Type.Partial(Sepa), schemes.includes('ach') ? Ach : Type.Partial(Ach)]);
}

/** Field -> environment variable. */
export const BANK_FILES_ENV = {
  stateKey: 'BANK_FILES_STATE_KEY',
  outboxDir: 'BANK_FILES_OUTBOX_DIR',
  inboxDir: 'BANK_FILES_INBOX_DIR',
  pollMs: 'BANK_FILES_POLL_MS',
  refundWindowDays: 'BANK_FILES_REFUND_WINDOW_DAYS',
  sepaCreditorId: 'BANK_FILES_SEPA_CREDITOR_ID',
  sepaCreditorName: 'BANK_FILES_SEPA_CREDITOR_NAME',
  sepaCreditorIban: 'BANK_FILES_SEPA_CREDITOR_IBAN',
  sepaCreditorBic: 'BANK_FILES_SEPA_CREDITOR_BIC',
  sepaCutoffs: 'BANK_FILES_SEPA_CUTOFFS',
  sepaLeadDays: 'BANK_FILES_SEPA_LEAD_DAYS',
  sepaMandateType: 'BANK_FILES_SEPA_MANDATE_TYPE',
  achDestinationRouting: 'BANK_FILES_ACH_DESTINATION_ROUTING',
  achDestinationName: 'BANK_FILES_ACH_DESTINATION_NAME',
  achOrigin: 'BANK_FILES_ACH_ORIGIN',
  achOriginName: 'BANK_FILES_ACH_ORIGIN_NAME',
  achCompanyName: 'BANK_FILES_ACH_COMPANY_NAME',
  achCompanyId: 'BANK_FILES_ACH_COMPANY_ID',
  achOdfi: 'BANK_FILES_ACH_ODFI',
  achEntryDescription: 'BANK_FILES_ACH_ENTRY_DESCRIPTION',
  achSecCode: 'BANK_FILES_ACH_SEC_CODE',
  achCutoffs: 'BANK_FILES_ACH_CUTOFFS',
  achLeadDays: 'BANK_FILES_ACH_LEAD_DAYS',
  achSettlementDays: 'BANK_FILES_ACH_SETTLEMENT_DAYS',
} as const satisfies Record<keyof BankFilesCredentials, string>;

/** The variable whose presence turns a scheme on (nimbus.config.ts registers the connector when either is set). */
export const SCHEME_SWITCH: Record<Scheme, string> = { sepa: BANK_FILES_ENV.sepaCreditorId, ach: BANK_FILES_ENV.achCompanyId };

// ---- What the connector keeps in its processor state ----------------------------------

/** A debtor account, only ever stored sealed (seal.ts). */
export type AccountDetails =
  | { scheme: 'sepa'; iban: string; name: string }
  | { scheme: 'ach'; routing: string; account: string; accountType: 'checking' | 'savings'; name: string };

export const Failure = Type.Object({ code: Type.String(), message: Type.String() });
export type Failure = Static<typeof Failure>;

/** Where an entry went: file, batch (PmtInfId or NACHA batch), and its id inside (end-to-end id or trace number). */
export const Placement = Type.Object({
  file: Type.String(),
  batch: Type.String(),
  entryId: Type.String(),
  /** Collection date (SEPA), execution date (SCT) or effective entry date (ACH). */
  date: Type.String(),
});
export type Placement = Static<typeof Placement>;

const EntryStatus = Type.Union([Type.Literal('queued'), Type.Literal('submitted'), Type.Literal('succeeded'), Type.Literal('failed')]);
export type EntryStatus = Static<typeof EntryStatus>;

export const PaymentRecord = Type.Object({
  reference: Type.String(),
  scheme: Type.Union([Type.Literal('sepa'), Type.Literal('ach')]),
  /** Identifies "the same request" on replay: amount, currency, scheme, a keyed hash of the account, mandate. */
  fingerprint: Type.String(),
  amount: Type.Integer(),
  currency: Type.String(),
  status: EntryStatus,
  queuedAt: Type.String(),
  /** Sealed {@link AccountDetails}; dropped when the refund window ends. */
  account: Type.Optional(Type.String()),
  retainAccountUntil: Type.Optional(Type.String()),
  sepa: Type.Optional(
    Type.Object({
      creditorId: Type.String(),
      creditorIban: Type.String(),
      mandateReference: Type.String(),
      mandateSignedAt: Type.String(),
      sequenceType: Type.Union([Type.Literal('FRST'), Type.Literal('RCUR'), Type.Literal('OOFF')]),
    }),
  ),
  ach: Type.Optional(Type.Object({ secCode: Type.String(), individualId: Type.String() })),
  placement: Type.Optional(Placement),
  failure: Type.Optional(Failure),
  /** Refunds not failed (pending or succeeded), bounding what may still be refunded. */
  refunded: Type.Integer(),
  refunds: Type.Array(Type.String()),
  /** A return after the debit had settled: the money went back through the bank already. */
  returned: Type.Optional(Type.Object({ code: Type.String(), message: Type.String(), amount: Type.Integer(), at: Type.String(), absorbed: Type.Integer() })),
});
export type PaymentRecord = Static<typeof PaymentRecord>;

export const RefundRecord = Type.Object({
  reference: Type.String(),
  paymentReference: Type.String(),
  scheme: Type.Union([Type.Literal('sepa'), Type.Literal('ach')]),
  fingerprint: Type.String(),
  amount: Type.Integer(),
  currency: Type.String(),
  status: EntryStatus,
  queuedAt: Type.String(),
  /** Paid by the debtor's bank through a return (no file of ours carries it). */
  viaReturn: Type.Boolean(),
  individualId: Type.Optional(Type.String()),
  placement: Type.Optional(Placement),
  failure: Type.Optional(Failure),
});
export type RefundRecord = Static<typeof RefundRecord>;

export const FileFormat = Type.Union([Type.Literal('pain.008.001.02'), Type.Literal('pain.001.001.03'), Type.Literal('nacha')]);
export type FileFormat = Static<typeof FileFormat>;

export const BatchSummary = Type.Object({
  id: Type.String(),
  date: Type.String(),
  /** FRST/RCUR/OOFF, SCT, or the NACHA SEC code and direction (`CCD debit`). */
  kind: Type.String(),
  entries: Type.Integer(),
  total: Type.Integer(),
  references: Type.Array(Type.String()),
});
export type BatchSummary = Static<typeof BatchSummary>;

export const FileRecord = Type.Object({
  id: Type.String(),
  name: Type.String(),
  format: FileFormat,
  scheme: Type.Union([Type.Literal('sepa'), Type.Literal('ach')]),
  createdAt: Type.String(),
  sha256: Type.String(),
  bytes: Type.Integer(),
  entries: Type.Integer(),
  total: Type.Integer(),
  currency: Type.String(),
  batches: Type.Array(BatchSummary),
  status: Type.Union([Type.Literal('built'), Type.Literal('delivered')]),
  deliveredAt: Type.Optional(Type.String()),
  deliveries: Type.Integer(),
  /** Entries still waiting for the bank's answer; the sealed content is dropped at 0. */
  open: Type.Integer(),
  /** The exact bytes, sealed, so a retry or a resend delivers them unchanged. */
  content: Type.Optional(Type.String()),
});
export type FileRecord = Static<typeof FileRecord>;

/** A return that arrived after the debit settled, waiting to become a refund in the payments layer. */
export const ReversalRecord = Type.Object({
  paymentReference: Type.String(),
  code: Type.String(),
  message: Type.String(),
  amount: Type.Integer(),
  currency: Type.String(),
  status: Type.Union([Type.Literal('open'), Type.Literal('done')]),
  createdAt: Type.String(),
  attempts: Type.Integer(),
  refund: Type.Optional(Type.String()),
  note: Type.Optional(Type.String()),
  /** A worker holds it until then (ms since epoch). */
  claimedUntil: Type.Optional(Type.Number()),
});
export type ReversalRecord = Static<typeof ReversalRecord>;

/** A status file already read: its hash dedupes a second upload or a copy in the inbox. */
export const InboundRecord = Type.Object({
  id: Type.String(),
  name: Type.String(),
  format: Type.String(),
  receivedAt: Type.String(),
  via: Type.String(),
  items: Type.Integer(),
  applied: Type.Integer(),
  unmatched: Type.Integer(),
});
export type InboundRecord = Static<typeof InboundRecord>;
