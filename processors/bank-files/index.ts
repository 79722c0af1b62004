import { defineProcessor, type ProcessorContext, type ProcessorDefinition } from '../sdk/define.ts';
import type { CancelResult, CaptureResult } from '../sdk/model.ts';
import { BANK_FILES_ENV, BankFilesCredentials, credentialsSchema, SCHEME_SWITCH, type Scheme } from './model.ts';
import * as operations from './operations.ts';
import { settingsOf } from './settings.ts';
import { verifyCallback } from './signing.ts';

export { BANK_FILES_ENV, BankFilesCredentials, SCHEME_SWITCH, type Scheme } from './model.ts';
export { createBankFilesOperator, publicFile, type BankFilesOperator, type PublicFile, type Trace } from './operator.ts';
export { identifierProblems, settingsOf } from './settings.ts';
export { directoryTransport, type BankTransport, type InboundFile } from './transport.ts';
export { StatusFileError } from './camt054.ts';
export type { IngestResult } from './ingest.ts';

export const BANK_FILES_ID = 'bank-files';

export type BankFilesOptions = {
  /** The rails this deployment runs (default both); each needs its own settings (README.md). */
  schemes?: readonly Scheme[];
  /** Clock in ms, for tests. */
  now?: () => number;
};

export type BankFilesDefinition = ProcessorDefinition<typeof BANK_FILES_ID, typeof BankFilesCredentials, operations.Methods>;

/**
 * SEPA Direct Debit and ACH debits through bank files (processors/bank-files/README.md).
 * Operations touch only the connector's state: a debit is queued for the next cut-off
 * and answered `pending`; files, status files and settlement are run by the bank-files
 * plugin (plugins/bank-files), which also delivers the outcomes as signed callbacks.
 */
export function createBankFiles(options: BankFilesOptions = {}): BankFilesDefinition {
  const schemes = options.schemes ?? (['sepa', 'ach'] as const);
  const now = options.now ?? Date.now;
  const methods: operations.Methods[] = [...(schemes.includes('sepa') ? (['sepa_debit'] as const) : []), ...(schemes.includes('ach') ? (['bank_transfer'] as const) : [])];
  // SEPA debits in EUR, ACH debits in USD: routing never offers this connector a payment
  // in the other rail's currency (a bank_transfer in EUR, a SEPA transfer the payer
  // pushes, goes to a processor that takes it, or is 400 currency_unsupported).
  const currencies = [...(schemes.includes('sepa') ? ['EUR'] : []), ...(schemes.includes('ach') ? ['USD'] : [])];
  const currenciesByMethod = {
    ...(schemes.includes('sepa') ? { sepa_debit: ['EUR'] } : {}),
    ...(schemes.includes('ach') ? { bank_transfer: ['USD'] } : {}),
  };
  const deps = (ctx: ProcessorContext<BankFilesCredentials>): operations.Deps => ({ state: ctx.state, settings: settingsOf(ctx.credentials), now });
  const nothingHeld = (reference: string, action: string) => ({
    status: 'failed' as const,
    reference,
    code: 'payment_unexpected_state',
    message: `A bank debit is collected in full at its cut-off; there is nothing to ${action}.`,
  });
  return defineProcessor({
    id: BANK_FILES_ID,
    displayName: 'Bank files (SEPA Direct Debit, ACH)',
    supports: { methods, currencies, currenciesByMethod },
    // The schema required of this deployment: the fields of its schemes. Typed as the union of all.
    credentials: credentialsSchema(schemes) as typeof BankFilesCredentials,
    env: BANK_FILES_ENV,
    // Operations only write the processor state; no network is involved.
    timeoutMs: 15_000,
    authorize: (input, ctx) => operations.authorize(deps(ctx), input),
    capture: async (input): Promise<CaptureResult> => nothingHeld(input.reference, 'capture'),
    cancel: async (input): Promise<CancelResult> => nothingHeld(input.reference, 'cancel'),
    refund: (input, ctx) => operations.refund(deps(ctx), input),
    sync: (input, ctx) => operations.sync(deps(ctx), input),
    parseWebhook: (request, ctx) => verifyCallback(settingsOf(ctx.credentials).keys.callback, request, now()),
  });
}

/** The schemes whose switch variable is set (SEPA: the creditor id; ACH: the company id). */
export function bankFileSchemes(env: Readonly<Record<string, string | undefined>>): Scheme[] {
  return (Object.keys(SCHEME_SWITCH) as Scheme[]).filter((scheme) => (env[SCHEME_SWITCH[scheme]] ?? '').trim() !== '');
}

/** For the composition root: the connector when the environment configures a scheme, else nothing. */
export function bankFilesFromEnv(env: Readonly<Record<string, string | undefined>>): BankFilesDefinition[] {
  const schemes = bankFileSchemes(env);
  return schemes.length > 0 ? [createBankFiles({ schemes })] : [];
}
