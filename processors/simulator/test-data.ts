import { normalizeIban } from '../../plugins/payment-methods/bank-transfer/index.ts';
import { assertNever } from '../../plugins/payment-methods/assert-never.ts';
import type { PaymentMethodRequest } from '../../plugins/payment-methods/model.ts';
import type { DeclineCode } from '../sdk/model.ts';

/**
 * What the simulator does with a payment, decided by the method details alone (API.md
 * "Simulator processor test data"). A scenario holds no card or account number, so the
 * ledger can keep it.
 */
export type Scenario =
  | { kind: 'approve'; refundsFail: boolean }
  | { kind: 'decline'; code: DeclineCode; declineCode?: string; message: string }
  | { kind: 'processor_error' }
  | { kind: 'timeout' }
  /** Bank transfer that settles after settleMs, announced by a callback. */
  | { kind: 'bank_settle' }
  /** Bank transfer returned by the bank after settleMs (R01 ACH / AC04 SEPA). */
  | { kind: 'bank_return'; code: 'R01' | 'AC04'; message: string }
  /** Bank transfer that sends no callback: only a `sync` after settleMs sees it settle. */
  | { kind: 'bank_reconcile' };

const CARD_SCENARIOS: Readonly<Record<string, Scenario>> = {
  '4000000000000002': {
    kind: 'decline',
    code: 'card_declined',
    declineCode: 'generic_decline',
    message: 'Your card was declined.',
  },
  '4000000000009995': {
    kind: 'decline',
    code: 'card_declined',
    declineCode: 'insufficient_funds',
    message: 'Your card has insufficient funds.',
  },
  '4000000000009987': {
    kind: 'decline',
    code: 'card_declined',
    declineCode: 'lost_card',
    message: 'Your card was declined.',
  },
  '4000000000000069': { kind: 'decline', code: 'expired_card', message: 'Your card has expired.' },
  '4000000000000127': { kind: 'decline', code: 'incorrect_cvc', message: "Your card's security code is incorrect." },
  '4000000000000119': { kind: 'processor_error' },
  '4000000000000408': { kind: 'timeout' },
  '4000000000005126': { kind: 'approve', refundsFail: true },
};

const RETURN_ACH: Scenario = { kind: 'bank_return', code: 'R01', message: 'Insufficient funds (R01).' };
const RETURN_SEPA: Scenario = { kind: 'bank_return', code: 'AC04', message: 'Account closed (AC04).' };

const IBAN_SCENARIOS: Readonly<Record<string, Scenario>> = {
  DE62370400440532013001: RETURN_SEPA,
  DE35370400440532013002: { kind: 'bank_reconcile' },
};

const ACH_ACCOUNT_SCENARIOS: Readonly<Record<string, Scenario>> = {
  '000111111116': RETURN_ACH,
};

/** Every valid card not in the table is approved; every valid account settles. */
export function scenarioFor(method: PaymentMethodRequest): Scenario {
  switch (method.type) {
    case 'card':
      return CARD_SCENARIOS[method.card.number] ?? { kind: 'approve', refundsFail: false };
    case 'bank_transfer': {
      const details = method.bank_transfer;
      switch (details.scheme) {
        case 'sepa':
          return IBAN_SCENARIOS[normalizeIban(details.iban)] ?? { kind: 'bank_settle' };
        case 'ach':
          return ACH_ACCOUNT_SCENARIOS[details.account_number] ?? { kind: 'bank_settle' };
        default:
          return assertNever(details, 'bank transfer scheme');
      }
    }
    default:
      return assertNever(method, 'payment method type');
  }
}
