import type { DeclineCode, PaymentMethodInput } from '../sdk/index.ts';

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

/** Spaces dropped, uppercase: the form API.md's test IBANs are written in. */
function normalizeIban(iban: string): string {
  return iban.replace(/\s+/g, '').toUpperCase();
}

function field(details: Record<string, unknown>, name: string): string | undefined {
  const value = details[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The simulator takes every payment method the deployment registers, so it decides by
 * the shape of the details rather than by method type: a card `number`, an `iban`
 * (SEPA transfer or SEPA Direct Debit alike: both settle later, returns are `AC04`) or
 * an ACH `account_number`. Anything else (a token, a wallet) is approved at once.
 * Every valid card not in the table is approved; every valid account settles.
 */
export function scenarioFor(method: PaymentMethodInput): Scenario {
  const details = (method as Record<string, unknown>)[method.type];
  if (typeof details !== 'object' || details === null) return { kind: 'approve', refundsFail: false };
  const record = details as Record<string, unknown>;
  const number = field(record, 'number');
  if (number !== undefined) return CARD_SCENARIOS[number] ?? { kind: 'approve', refundsFail: false };
  const iban = field(record, 'iban');
  if (iban !== undefined) return IBAN_SCENARIOS[normalizeIban(iban)] ?? { kind: 'bank_settle' };
  const account = field(record, 'account_number');
  if (account !== undefined) return ACH_ACCOUNT_SCENARIOS[account] ?? { kind: 'bank_settle' };
  return { kind: 'approve', refundsFail: false };
}
