/**
 * Stripe's published test cards (stripe.com/docs/testing) and the test PaymentMethod each
 * one stands for. Stripe takes raw card numbers only from PCI-approved accounts, so in
 * test mode the connector sends the PaymentMethod instead of the number; any other number
 * never leaves NimbusPay.
 */
export const STRIPE_TEST_CARDS: Readonly<Record<string, string>> = {
  // Successful payments by brand.
  '4242424242424242': 'pm_card_visa',
  '4000056655665556': 'pm_card_visa_debit',
  '5555555555554444': 'pm_card_mastercard',
  '5200828282828210': 'pm_card_mastercard_debit',
  '5105105105105100': 'pm_card_mastercard_prepaid',
  '378282246310005': 'pm_card_amex',
  '371449635398431': 'pm_card_amex',
  '6011111111111117': 'pm_card_discover',
  '3056930009020004': 'pm_card_diners',
  '3566002020360505': 'pm_card_jcb',
  '6200000000000005': 'pm_card_unionpay',
  // Declines.
  '4000000000000002': 'pm_card_chargeDeclined',
  '4000000000009995': 'pm_card_chargeDeclinedInsufficientFunds',
  '4000000000009987': 'pm_card_chargeDeclinedLostCard',
  '4000000000009979': 'pm_card_chargeDeclinedStolenCard',
  '4000000000000069': 'pm_card_chargeDeclinedExpiredCard',
  '4000000000000127': 'pm_card_chargeDeclinedIncorrectCvc',
  '4000000000000119': 'pm_card_chargeDeclinedProcessingError',
  // Refunds that settle asynchronously: pending then succeeded, or succeeded then failed.
  '4000000000007726': 'pm_card_pendingRefund',
  '4000000000005126': 'pm_card_refundFail',
  // 3-D Secure: the PaymentIntent asks for authentication (requires_action).
  '4000000000003220': 'pm_card_threeDSecure2Required',
  '4000002760003184': 'pm_card_authenticationRequired',
};

/** The test PaymentMethod for a published test card number, or undefined. */
export function testPaymentMethodFor(number: string): string | undefined {
  return STRIPE_TEST_CARDS[number];
}
