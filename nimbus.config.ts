/**
 * The composition root: the payment methods, processors and plugins of this deployment.
 * `nimbus serve`, `nimbus worker`, the tests and the benchmarks all build NimbusPay from
 * this one list. To add a processor, import its factory here and list it; it reads its
 * own credentials from the environment variables it declares (see processors/README.md).
 */
import { audit } from './plugins/audit';
import { auth } from './plugins/auth';
import { bankFiles } from './plugins/bank-files';
import { supportConsole } from './plugins/console';
import { events } from './plugins/events';
import { idempotency } from './plugins/idempotency';
import { docs, ops } from './plugins/ops';
import { bankTransfer, card } from './plugins/payment-methods';
import { cardToken } from './plugins/payment-methods/card-token';
import { sepaDebit } from './plugins/payment-methods/sepa-debit';
import { payments } from './plugins/payments';
import { tenancy } from './plugins/tenancy';
import { bankFilesFromEnv } from './processors/bank-files';
import { createSimulator } from './processors/simulator';
import { createStripe } from './processors/stripe';
import { defineNimbus } from './runtime/nimbus';
import { webhooks } from './webhooks';
import { webhookSupport } from './webhooks/support-routes';

export default defineNimbus({
  // Stripe (and card_token, which only Stripe takes) when STRIPE_SECRET_KEY is set: see processors/stripe/README.md.
  paymentMethods: [card, bankTransfer, sepaDebit, ...(process.env.STRIPE_SECRET_KEY ? [cardToken] : [])],
  // The order is the deployment's default routing (tenants may override it per method).
  // Bank files (SEPA Direct Debit, ACH) when BANK_FILES_SEPA_CREDITOR_ID or BANK_FILES_ACH_COMPANY_ID is set: see processors/bank-files/README.md.
  processors: [...(process.env.STRIPE_SECRET_KEY ? [createStripe()] : []), ...bankFilesFromEnv(process.env), createSimulator()],
  // Global hooks first: audit and idempotency wrap every route registered after them.
  plugins: [audit, idempotency, docs, ops, auth, tenancy, webhooks, payments, events, webhookSupport, supportConsole, bankFiles],
});
