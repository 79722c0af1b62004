import { silentLogger, type Logger } from '../../../runtime/logger.ts';
import { createMetrics } from '../../../runtime/metrics.ts';
import type { PaymentMethodInput } from '../../../runtime/registry/index.ts';
import { configureProcessor, createMemoryProcessorState, createProcessorCaller, type ProcessorState } from '../../sdk/index.ts';
import { createBankFiles, createBankFilesOperator, type BankTransport, type InboundFile } from '../index.ts';
import type { BankFilesCredentials } from '../model.ts';
import { ACH_ROUTING, createTestBank, type TestBankOptions } from './bank.ts';

/** A deployment's settings for tests: both schemes, the EPC's example creditor id, a valid creditor IBAN. */
export const CREDENTIALS: BankFilesCredentials = {
  stateKey: 'bank-files-test-state-key-0123456789abcdef',
  outboxDir: '/nonexistent/outbox',
  inboxDir: '/nonexistent/inbox',
  pollMs: 60_000,
  refundWindowDays: 180,
  sepaCreditorId: 'DE98ZZZ09999999999',
  sepaCreditorName: 'Nimbus Platform GmbH',
  sepaCreditorIban: 'DE77100100100123456789',
  sepaCreditorBic: 'PBNKDEFFXXX',
  sepaCutoffs: '09:00,14:00',
  sepaLeadDays: 1,
  sepaMandateType: 'recurring',
  achDestinationRouting: '110000000',
  achDestinationName: 'Test ODFI',
  achOrigin: '1234567890',
  achOriginName: 'Nimbus Platform Inc',
  achCompanyName: 'Nimbus Platform',
  achCompanyId: '1234567890',
  achEntryDescription: 'PAYMENT',
  achSecCode: 'CCD',
  achCutoffs: '20:00',
  achLeadDays: 1,
  achSettlementDays: 2,
};

export const MANDATE = { reference: 'MNDT-2026-0001', signed_at: '2026-11-01' };

export function sepaDebit(iban: string, options: { name?: string; mandate?: string } = {}): PaymentMethodInput {
  return {
    type: 'sepa_debit',
    sepa_debit: { iban, account_holder_name: options.name ?? 'Jane Doe', mandate: { ...MANDATE, ...(options.mandate ? { reference: options.mandate } : {}) } },
  } as PaymentMethodInput;
}

export function achDebit(account: string, options: { type?: 'checking' | 'savings'; name?: string } = {}): PaymentMethodInput {
  return {
    type: 'bank_transfer',
    bank_transfer: { scheme: 'ach', routing_number: ACH_ROUTING, account_number: account, account_type: options.type ?? 'checking', account_holder_name: options.name ?? 'Acme Corp' },
  } as PaymentMethodInput;
}

/** Files in memory: what was delivered, and an inbox a test fills. */
export function memoryTransport() {
  const delivered = new Map<string, string>();
  const inbox: Array<{ name: string; content: string }> = [];
  const transport: BankTransport = {
    async deliver({ name, content }) {
      const existing = delivered.get(name);
      if (existing !== undefined && existing !== content) throw new Error(`conflict on ${name}`);
      delivered.set(name, content);
    },
    async receive(): Promise<InboundFile[]> {
      return inbox.splice(0).map((file) => ({ ...file, done: async () => undefined, reject: async () => undefined }));
    },
  };
  return { transport, delivered, inbox };
}

/** Tuesday 25 November 2026, 08:00 UTC: before the 09:00 SEPA cut-off of a TARGET2 day. */
export const START = Date.parse('2026-11-25T08:00:00.000Z');

/** A connector, its state, the real call wrapper, an operator on the same state, and a test bank. */
export function harness(options: { credentials?: Partial<BankFilesCredentials>; bank?: Partial<TestBankOptions>; logger?: Logger; state?: ProcessorState } = {}) {
  let clock = START;
  const now = () => clock;
  const state = options.state ?? createMemoryProcessorState();
  // A field set to undefined is a field the deployment does not have.
  const credentials = Object.fromEntries(Object.entries({ ...CREDENTIALS, ...options.credentials }).filter(([, value]) => value !== undefined)) as BankFilesCredentials;
  const schemes = [...(credentials.sepaCreditorId ? (['sepa'] as const) : []), ...(credentials.achCompanyId ? (['ach'] as const) : [])];
  const processor = configureProcessor(createBankFiles({ now, schemes }), credentials, { state });
  const caller = createProcessorCaller({ metrics: createMetrics(), logger: silentLogger, retry: { maxAttempts: 1, baseDelayMs: 1 } });
  const files = memoryTransport();
  const logger = options.logger ?? silentLogger;
  const operator = createBankFilesOperator({ state, credentials: processor.credentials, logger, transport: files.transport, now });
  const bank = createTestBank({ account: credentials.sepaCreditorIban!, now: () => new Date(clock), ...options.bank });
  let keys = 0;
  return {
    state,
    processor,
    caller,
    operator,
    bank,
    files,
    now,
    setClock: (iso: string) => void (clock = Date.parse(iso)),
    advance: (ms: number) => void (clock += ms),
    key: (label = 'key') => `${label}-${(keys += 1)}`,
    authorize(method: PaymentMethodInput, amount = 2000, idempotencyKey = `authorize-${(keys += 1)}`) {
      const currency = method.type === 'sepa_debit' ? 'EUR' : 'USD';
      return caller.call(processor, 'authorize', { idempotencyKey, amount, currency, capture: true, paymentMethod: method });
    },
    syncPayment: (reference: string) => caller.call(processor, 'sync', { kind: 'payment', reference }),
    syncRefund: (reference: string) => caller.call(processor, 'sync', { kind: 'refund', reference }),
    /** Cut-off now, deliver, let the bank answer into the inbox, read it. */
    async cutoffAndAnswer(): Promise<void> {
      await operator.runDueCutoffs();
      for (const file of await operator.deliverFiles()) {
        for (const answer of bank.receive(files.delivered.get(file.name)!)) files.inbox.push(answer);
      }
      await operator.receiveFiles();
    },
  };
}
