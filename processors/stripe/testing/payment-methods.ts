/**
 * The test PaymentMethods the Stripe test server knows, and what Stripe's documentation
 * (stripe.com/docs/testing) says each one does. Written from the documentation, not from
 * the connector's card table, so the server cannot agree with a connector bug.
 */
export type CardDecline = {
  /** Stripe's error `code`: card_declined, expired_card, incorrect_cvc, processing_error. */
  code: string;
  /** Present for code card_declined only, as Stripe sends it. */
  declineCode?: string;
  message: string;
  /** The card field Stripe names in `param` (expired_card, incorrect_cvc). */
  param?: string;
};

export type TestPaymentMethod = {
  brand: string;
  last4: string;
  outcome:
    | { kind: 'approve'; refunds: 'succeed' | 'pending_then_succeed' | 'succeed_then_fail' }
    | { kind: 'decline'; decline: CardDecline }
    /** 3-D Secure: the PaymentIntent goes to requires_action. */
    | { kind: 'authenticate' };
};

const approve = (brand: string, last4: string): TestPaymentMethod => ({ brand, last4, outcome: { kind: 'approve', refunds: 'succeed' } });
const decline = (last4: string, decline: CardDecline): TestPaymentMethod => ({ brand: 'visa', last4, outcome: { kind: 'decline', decline } });
const DECLINED = 'Your card was declined.';

export const TEST_PAYMENT_METHODS: Readonly<Record<string, TestPaymentMethod>> = {
  pm_card_visa: approve('visa', '4242'),
  pm_card_visa_debit: approve('visa', '5556'),
  pm_card_mastercard: approve('mastercard', '4444'),
  pm_card_mastercard_debit: approve('mastercard', '8210'),
  pm_card_mastercard_prepaid: approve('mastercard', '5100'),
  pm_card_amex: approve('amex', '8431'),
  pm_card_discover: approve('discover', '1117'),
  pm_card_diners: approve('diners', '0004'),
  pm_card_jcb: approve('jcb', '0505'),
  pm_card_unionpay: approve('unionpay', '0005'),
  pm_card_chargeDeclined: decline('0002', { code: 'card_declined', declineCode: 'generic_decline', message: DECLINED }),
  pm_card_chargeDeclinedInsufficientFunds: decline('9995', { code: 'card_declined', declineCode: 'insufficient_funds', message: 'Your card has insufficient funds.' }),
  pm_card_chargeDeclinedLostCard: decline('9987', { code: 'card_declined', declineCode: 'lost_card', message: DECLINED }),
  pm_card_chargeDeclinedStolenCard: decline('9979', { code: 'card_declined', declineCode: 'stolen_card', message: DECLINED }),
  pm_card_chargeDeclinedFraudulent: decline('0019', { code: 'card_declined', declineCode: 'fraudulent', message: DECLINED }),
  pm_card_chargeDeclinedExpiredCard: decline('0069', { code: 'expired_card', message: 'Your card has expired.', param: 'exp_month' }),
  pm_card_chargeDeclinedIncorrectCvc: decline('0127', { code: 'incorrect_cvc', message: "Your card's security code is incorrect.", param: 'cvc' }),
  pm_card_chargeDeclinedProcessingError: decline('0119', {
    code: 'processing_error',
    message: 'An error occurred while processing your card. Try again in a little bit.',
  }),
  // "If you initiate a refund, its status begins as pending. Some time later, its status transitions to succeeded."
  pm_card_pendingRefund: { brand: 'visa', last4: '7726', outcome: { kind: 'approve', refunds: 'pending_then_succeed' } },
  // "the refund will appear to be successful at first and will only have the failed status on subsequent fetches"
  pm_card_refundFail: { brand: 'visa', last4: '5126', outcome: { kind: 'approve', refunds: 'succeed_then_fail' } },
  pm_card_threeDSecure2Required: { brand: 'visa', last4: '3220', outcome: { kind: 'authenticate' } },
  pm_card_authenticationRequired: { brand: 'visa', last4: '3184', outcome: { kind: 'authenticate' } },
};

/** Stripe's minimum charge amounts (minor units) for the currencies NimbusPay offers. */
export const MINIMUM_AMOUNTS: Readonly<Record<string, number>> = {
  usd: 50, eur: 50, gbp: 30, chf: 50, cad: 50, aud: 50, nzd: 50, jpy: 50,
  sek: 300, nok: 300, dkk: 250, pln: 200, czk: 1500, huf: 17500,
};
