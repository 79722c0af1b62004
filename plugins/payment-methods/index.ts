/**
 * The payment methods NimbusPay ships, one folder each. The composition root
 * (nimbus.config.ts) registers the ones a deployment offers; nothing else imports a
 * method by name.
 */
export { card, cardBrandOf, CardBrand, CardDetails, CardPublic } from './card/index.ts';
export { bankTransfer, BankTransferDetails, BankTransferPublic, SepaDetails, AchDetails, normalizeIban } from './bank-transfer/index.ts';
