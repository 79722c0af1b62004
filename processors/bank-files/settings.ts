import { deriveKeys, type BankFileKeys } from './seal.ts';
import { creditorIdValid, ibanValid, routingNumberValid } from './identifiers.ts';
import type { BankFilesCredentials, Scheme } from './model.ts';
import type { Creditor } from './pain008.ts';

/**
 * The validated credentials turned into what the connector works with: which schemes are
 * on, the creditor account, the cut-off times, the derived keys. Computed once per
 * credentials object.
 */
export type Settings = {
  schemes: Scheme[];
  keys: BankFileKeys;
  refundWindowDays: number;
  sepa?: { creditor: Creditor; cutoffs: string[]; leadDays: number; mandateType: 'recurring' | 'one_off' };
  ach?: {
    destinationRouting: string;
    destinationName: string;
    origin: string;
    originName: string;
    companyName: string;
    companyId: string;
    odfi: string;
    entryDescription: string;
    secCode: 'CCD' | 'PPD';
    cutoffs: string[];
    leadDays: number;
    settlementDays: number;
  };
};

const memo = new WeakMap<object, Settings>();

const cutoffList = (text: string) => [...new Set(text.split(','))].sort();

export function settingsOf(credentials: BankFilesCredentials): Settings {
  const known = memo.get(credentials);
  if (known) return known;
  const c = credentials;
  const settings: Settings = {
    schemes: [...(c.sepaCreditorId ? (['sepa'] as const) : []), ...(c.achCompanyId ? (['ach'] as const) : [])],
    keys: deriveKeys(c.stateKey),
    refundWindowDays: c.refundWindowDays,
  };
  if (c.sepaCreditorId && c.sepaCreditorName && c.sepaCreditorIban) {
    settings.sepa = {
      creditor: { creditorId: c.sepaCreditorId, name: c.sepaCreditorName, iban: c.sepaCreditorIban, ...(c.sepaCreditorBic ? { bic: c.sepaCreditorBic } : {}) },
      cutoffs: cutoffList(c.sepaCutoffs ?? '09:00'),
      leadDays: c.sepaLeadDays ?? 1,
      mandateType: c.sepaMandateType ?? 'recurring',
    };
  }
  if (c.achCompanyId && c.achDestinationRouting && c.achDestinationName && c.achOrigin && c.achOriginName && c.achCompanyName) {
    settings.ach = {
      destinationRouting: c.achDestinationRouting,
      destinationName: c.achDestinationName,
      origin: c.achOrigin,
      originName: c.achOriginName,
      companyName: c.achCompanyName,
      companyId: c.achCompanyId,
      odfi: c.achOdfi ?? c.achDestinationRouting.slice(0, 8),
      entryDescription: c.achEntryDescription ?? 'PAYMENT',
      secCode: c.achSecCode ?? 'CCD',
      cutoffs: cutoffList(c.achCutoffs ?? '20:00'),
      leadDays: c.achLeadDays ?? 1,
      settlementDays: c.achSettlementDays ?? 2,
    };
  }
  memo.set(credentials, settings);
  return settings;
}

/**
 * What a schema cannot check: check digits of the creditor id, IBAN and routing number.
 * Returns the fields at fault (the plugin turns them into a start-up error naming the
 * variable); never the values.
 */
export function identifierProblems(credentials: BankFilesCredentials): Array<keyof BankFilesCredentials> {
  const problems: Array<keyof BankFilesCredentials> = [];
  if (credentials.sepaCreditorId && !creditorIdValid(credentials.sepaCreditorId)) problems.push('sepaCreditorId');
  if (credentials.sepaCreditorIban && !ibanValid(credentials.sepaCreditorIban)) problems.push('sepaCreditorIban');
  if (credentials.achDestinationRouting && !routingNumberValid(credentials.achDestinationRouting)) problems.push('achDestinationRouting');
  return problems;
}

/** The latest cut-off instant at or before `now` (today's or yesterday's last). */
export function latestCutoff(cutoffs: readonly string[], now: Date): Date {
  const day = now.toISOString().slice(0, 10);
  const today = cutoffs.map((time) => new Date(`${day}T${time}:00.000Z`)).filter((instant) => instant <= now);
  if (today.length > 0) return today.at(-1)!;
  const yesterday = new Date(now.getTime() - 86_400_000).toISOString().slice(0, 10);
  return new Date(`${yesterday}T${cutoffs.at(-1)}:00.000Z`);
}
