import { describe, expect, test } from 'bun:test';
import { CHECKS, type ConformanceFixtures, type ConformanceOptions } from '../conformance/index.ts';
import { openSession } from '../conformance/session.ts';
import { silentLogger } from '../../runtime/logger.ts';
import type { PaymentMethodInput } from '../../runtime/registry/index.ts';
import { createMemoryProcessorState, type ProcessorState } from '../sdk/index.ts';
import { createBankFiles, createBankFilesOperator } from './index.ts';
import { ACH_ACCOUNTS, createTestBank, SEPA_ACCOUNTS } from './testing/bank.ts';
import { achDebit, CREDENTIALS, memoryTransport, sepaDebit, START } from './testing/fixtures.ts';

/**
 * The processor conformance kit against the bank-files connector. Its settlement is the
 * real thing: `settle()` moves the clock past the cut-off, builds and delivers the file,
 * lets the test bank answer and reads the answer (and, for ACH, moves past the return
 * window). The kit's asynchronous-settlement check runs once per rail and outcome, as the
 * simulator's bank transfers run it; the webhook check runs on the connector's callbacks.
 *
 * The other checks assume a method approved at once (cards): authorize-only, capture,
 * cancel, declines at authorize, refunds of an approved payment, replay of an approved
 * payment, and a processor that may time out. A bank debit is none of those; the same
 * properties in bank-file terms (refunds, replay, refusals) are in lifecycle.test.ts and
 * returns.test.ts.
 */
const ASYNC_CHECKS = ['sync of a pending outcome', 'webhook signatures'];

/** The kit asks for every fixture; the ones only card checks use are never called here. */
function fixtures(pending: ConformanceFixtures['methods']['pending']): ConformanceFixtures {
  const unused = pending.method;
  return { currency: pending.currency, amount: 2000, methods: { approved: unused, declined: [{ method: unused, code: 'card_declined' }], refundFails: unused, pending, timeout: unused } };
}

function options(name: string, pending: ConformanceFixtures['methods']['pending']): ConformanceOptions {
  return {
    name,
    fixtures: fixtures(pending),
    factory() {
      let clock = START;
      const now = () => clock;
      const base = createBankFiles({ now });
      // The kit gives the connector a fresh memory state of its own; the operator (the
      // plugin's part) must work on the same one, so the connector's calls hand it over.
      let state: ProcessorState | undefined;
      const processor = Object.freeze({
        ...base,
        authorize: (input: Parameters<typeof base.authorize>[0], ctx: Parameters<typeof base.authorize>[1]) => {
          state = ctx.state;
          return base.authorize(input, ctx);
        },
      });
      return {
        processor,
        credentials: CREDENTIALS,
        async settle() {
          const files = memoryTransport();
          const operator = createBankFilesOperator({ state: state!, credentials: CREDENTIALS, logger: silentLogger, transport: files.transport, now });
          const bank = createTestBank({ account: CREDENTIALS.sepaCreditorIban!, now: () => new Date(clock) });
          clock = Date.parse('2026-11-25T20:00:30.000Z'); // after both rails' cut-offs
          await operator.runDueCutoffs();
          for (const file of await operator.deliverFiles()) files.inbox.push(...bank.receive(files.delivered.get(file.name)!));
          await operator.receiveFiles();
          clock = Date.parse('2026-12-02T12:00:00.000Z'); // past ACH's return window
          await operator.settleDue();
        },
        webhook: () =>
          createBankFilesOperator({ state: createMemoryProcessorState(), credentials: CREDENTIALS, logger: silentLogger, transport: memoryTransport().transport, now }).callback({
            eventId: 'bfevt-1',
            kind: 'payment',
            reference: 'bfp-000000000000000000000001',
            status: 'succeeded',
          }),
      };
    },
  };
}

const RAILS: Array<[string, ConformanceFixtures['methods']['pending']]> = [
  ['SEPA Direct Debit, settles', { method: sepaDebit(SEPA_ACCOUNTS.settles), currency: 'EUR', settlesTo: 'succeeded' }],
  ['SEPA Direct Debit, returned AC04', { method: sepaDebit(SEPA_ACCOUNTS.closed), currency: 'EUR', settlesTo: 'failed', code: 'AC04' }],
  ['ACH debit, settles', { method: achDebit(ACH_ACCOUNTS.settles), currency: 'USD', settlesTo: 'succeeded' }],
  ['ACH debit, returned R01', { method: achDebit(ACH_ACCOUNTS.noFunds) as PaymentMethodInput, currency: 'USD', settlesTo: 'failed', code: 'R01' }],
];

for (const [rail, pending] of RAILS) {
  describe(`processor conformance: bank-files (${rail})`, () => {
    for (const check of CHECKS.filter((candidate) => ASYNC_CHECKS.some((prefix) => candidate.name.startsWith(prefix)))) {
      test(check.name, async () => {
        await check.run(await openSession(options(`bank-files ${rail}`, pending)));
      });
    }
  });
}

describe('processor conformance: bank-files, checks that do not apply', () => {
  for (const check of CHECKS.filter((candidate) => !ASYNC_CHECKS.some((prefix) => candidate.name.startsWith(prefix)))) {
    test.skip(`${check.name} (not for bank debits: no method is approved at once)`, () => undefined);
  }

  test('the asynchronous checks this file runs are still in the kit', () => {
    for (const prefix of ASYNC_CHECKS) expect(CHECKS.filter((check) => check.name.startsWith(prefix))).toHaveLength(1);
  });
});
