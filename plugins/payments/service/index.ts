import { createCallbackHandler } from './callbacks';
import { createCaptureCancel } from './capture-cancel';
import { createPaymentsContext, type PaymentsDeps } from './context';
import { createPaymentOperations } from './payments';
import { createRefundOperations } from './refunds';
import { createRoutingRules } from './routing-rules';

export type { PaymentsDeps } from './context';
export type { AuthorizationOutcome } from './authorization';
export { createReconciler, type Reconciler, type ReconcilerOptions, type ReconcileReport } from './reconciler';
export { paymentResource, refundResource, type PaymentRow, type RefundRow } from './resource';
export { candidatesFor, type ProcessorDirectory } from './routing';
export { validateRoutingRules, type RoutingRule, type RoutingRules } from './routing-rules';
export { SUPPORTED_CURRENCIES, CURRENCY_EXPONENTS, isSupportedCurrency, MAX_AMOUNT } from './currencies';

/**
 * The payments layer: payments, refunds and processor callbacks over one database and
 * one registry. Routes call these; nothing here knows about HTTP beyond ApiError.
 */
export function createPaymentsService(deps: PaymentsDeps) {
  const ctx = createPaymentsContext(deps);
  const payments = createPaymentOperations(ctx);
  const captureCancel = createCaptureCancel(ctx);
  const refunds = createRefundOperations(ctx);
  const callbacks = createCallbackHandler(ctx);
  const routing = createRoutingRules(ctx);
  return { ctx, payments, captureCancel, refunds, callbacks, routing };
}

export type PaymentsService = ReturnType<typeof createPaymentsService>;
