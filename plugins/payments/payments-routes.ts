import { Elysia } from 'elysia';
import { ApiError, parameterInvalid, parameterUnknown } from '../../runtime/errors';
import { errorBody, requestState } from '../../runtime/http';
import { listResponse } from '../../runtime/pagination';
import { requestCommit, type RequestOutcome } from '../../runtime/unit-of-work';
import { paymentResource, type AuthorizationOutcome, type PaymentRow } from './service';
import { processorUnavailable } from './service/authorization';
import { authGuard, tenantOf } from '../auth';
import { claimsIdempotencyKey, idempotencyOf } from '../idempotency';
import type { PaymentsPluginDeps } from './index';
import {
  CancelPaymentBody,
  CapturePaymentBody,
  errorResponses,
  IdParams,
  ListOf,
  ListPaymentsQuery,
  type PaymentFailure,
} from './model';

const TAGS = ['Payments'];
const READ = ['payments:read', 'payments:write'] as const;

/** The 402 of a confirm that ended `failed` (API.md "Payments": Stripe's behaviour on confirm). */
export function cardError(failure: PaymentFailure): ApiError {
  return new ApiError(402, 'card_error', failure.code, failure.message, failure.decline_code ? { declineCode: failure.decline_code } : {});
}

/**
 * Confirm takes no parameters. Its body is optional, so it has no body schema (which
 * would make the OpenAPI document require one); unknown fields are still a 400.
 */
function assertNoBodyFields(body: unknown): void {
  if (body === undefined || body === null) return;
  if (typeof body !== 'object' || Array.isArray(body)) throw parameterInvalid('body', 'The request body must be a JSON object.');
  const [unknown] = Object.keys(body);
  if (unknown !== undefined) throw parameterUnknown(unknown);
}

function audit(request: Request, action: string, resourceId: string): void {
  requestState(request).audit = { action, resourceId };
}

/** What a confirm answers for its outcome (and stores with it): the payment, or the 402 or 503 it ended in. */
function confirmError(outcome: AuthorizationOutcome): ApiError | undefined {
  switch (outcome.kind) {
    case 'committed':
      return undefined;
    case 'failed':
      return cardError(outcome.failure);
    case 'unavailable':
      return processorUnavailable({ retryable: false });
  }
}

/**
 * The request's answer as the service's last transaction commits it (with the idempotent
 * answer and the audit row, see runtime/unit-of-work.ts): exactly what the route sends.
 */
function answering<R>(request: Request, action: string, status: number, rowOf: (result: R) => PaymentRow, errorOf?: (result: R) => ApiError | undefined) {
  return requestCommit(request, (result: R): RequestOutcome => {
    const row = rowOf(result);
    audit(request, action, row.id);
    const error = errorOf?.(result);
    if (error) return { status: error.status, body: errorBody(error, requestState(request).id), resourceId: row.id };
    return { status, body: JSON.stringify(paymentResource(row)), resourceId: row.id };
  });
}

const outcomeRow = (outcome: AuthorizationOutcome) => outcome.row;
const sameRow = (row: PaymentRow) => row;

/** /v1/payments: create (201, a decline is a `failed` payment), confirm/capture/cancel (200), retrieve, list. */
export function paymentRoutes(deps: PaymentsPluginDeps) {
  const { service } = deps;
  const { payments, captureCancel } = service;
  const { CreatePaymentBody, Payment } = deps.schemas;
  return new Elysia({ name: 'nimbus:payments:payments' })
    .use(authGuard(deps))
    .use(claimsIdempotencyKey)
    .post(
      '/v1/payments',
      async ({ body, request, set }) => {
        const finish = answering(request, 'payment.create', 201, outcomeRow);
        const outcome: AuthorizationOutcome = await payments.create(tenantOf(request), body, idempotencyOf(request), finish);
        audit(request, 'payment.create', outcome.row.id);
        set.status = 201;
        return paymentResource(outcome.row);
      },
      {
        scopes: ['payments:write'],
        claimsIdempotencyKey: true,
        body: CreatePaymentBody,
        response: { 201: Payment, ...errorResponses(400, 401, 403, 409, 413, 422, 503) },
        detail: {
          tags: TAGS,
          summary: 'Create a payment',
          operationId: 'createPayment',
          description:
            'Creates a payment and, unless `confirm` is false, sends it to a processor at once. Cards resolve synchronously: ' +
            'a declined card is not an error here, the payment is returned with 201, `status: failed` and a `failure` object. ' +
            'Bank transfers return `processing` and settle later. When no processor can be asked at all (every processor is ' +
            'unreachable behind its circuit breaker), nothing is charged and the payment is returned with 201, `status: failed` ' +
            'and `failure.code: processor_unavailable`; create a new payment to try again. Send an `Idempotency-Key` header to ' +
            'retry safely: a retry after a 5xx or a lost answer returns the payment the first request created (asking the ' +
            'processor where it stands when its outcome is unknown) and never charges twice.',
        },
      },
    )
    .get(
      '/v1/payments',
      async ({ query, request }) => {
        const page = await payments.list(tenantOf(request), query);
        return listResponse(page.rows.map(paymentResource), page.hasMore);
      },
      {
        scopes: [...READ],
        query: ListPaymentsQuery,
        response: { 200: ListOf(Payment), ...errorResponses(400, 401, 403, 404) },
        detail: { tags: TAGS, summary: 'List payments, newest first', operationId: 'listPayments' },
      },
    )
    .get('/v1/payments/:id', async ({ params, request }) => paymentResource(await payments.retrieve(tenantOf(request), params.id)), {
      scopes: [...READ],
      params: IdParams,
      response: { 200: Payment, ...errorResponses(400, 401, 403, 404) },
      detail: { tags: TAGS, summary: 'Retrieve a payment', operationId: 'getPayment' },
    })
    .post(
      '/v1/payments/:id/confirm',
      async ({ params, request, body }) => {
        assertNoBodyFields(body);
        const finish = answering(request, 'payment.confirm', 200, outcomeRow, confirmError);
        const outcome = await payments.confirm(tenantOf(request), params.id, idempotencyOf(request), finish);
        audit(request, 'payment.confirm', params.id);
        switch (outcome.kind) {
          case 'committed':
            return paymentResource(outcome.row);
          case 'failed':
            throw cardError(outcome.failure);
          case 'unavailable':
            throw processorUnavailable({ retryable: false });
        }
      },
      {
        scopes: ['payments:write'],
        claimsIdempotencyKey: true,
        params: IdParams,
        response: { 200: Payment, ...errorResponses(400, 401, 402, 403, 404, 409, 413, 422, 503) },
        detail: {
          tags: TAGS,
          summary: 'Confirm a payment',
          operationId: 'confirmPayment',
          description:
            'Only from `requires_confirmation`. A declined card answers 402 `card_error` (`card_declined` with a `decline_code`, ' +
            '`expired_card`, `incorrect_cvc`, or `processing_error`), and the payment becomes `failed`, as Stripe does. When no ' +
            'processor can be asked at all (every processor unreachable behind its circuit breaker), the payment becomes `failed` ' +
            'with `failure.code: processor_unavailable`, nothing is charged, and the answer is 503 `api_error` ' +
            '`processor_unavailable`; the payment method details kept for the confirmation are gone either way. A retry with the ' +
            'same `Idempotency-Key` after a 5xx answers the outcome the processor reports for this confirmation (it is never sent twice).',
        },
      },
    )
    .post(
      '/v1/payments/:id/capture',
      async ({ params, body, request }) => {
        const finish = answering(request, 'payment.capture', 200, sameRow);
        const row = await captureCancel.capture(tenantOf(request), params.id, body.amount_to_capture, idempotencyOf(request), finish);
        audit(request, 'payment.capture', params.id);
        return paymentResource(row);
      },
      {
        scopes: ['payments:write'],
        claimsIdempotencyKey: true,
        params: IdParams,
        body: CapturePaymentBody,
        response: { 200: Payment, ...errorResponses(400, 401, 403, 404, 409, 413, 422, 503) },
        detail: {
          tags: TAGS,
          summary: 'Capture an authorized payment',
          operationId: 'capturePayment',
          description:
            'Only from `requires_capture`, once. `amount_to_capture` defaults to `amount_capturable`; the rest of the authorization is released. ' +
            '`amount_received` is what the processor confirms it captured (a different amount than asked is recorded as confirmed, and ' +
            'logged and counted as a discrepancy). If the processor\'s answer is lost, the payment stays `requires_capture` with the ' +
            'capture pending (a second capture or a cancel meanwhile is 409) and reconciliation finishes it. If the processor refused ' +
            'the request or could not be reached, the answer is 503 `api_error` `processor_unavailable` and nothing changed. A retry ' +
            'with the same `Idempotency-Key` after a 5xx finishes this capture (asked again under the same processor-side key) ' +
            'instead of answering 409.',
        },
      },
    )
    .post(
      '/v1/payments/:id/cancel',
      async ({ params, body, request }) => {
        const finish = answering(request, 'payment.cancel', 200, sameRow);
        const row = await captureCancel.cancel(tenantOf(request), params.id, body.cancellation_reason, idempotencyOf(request), finish);
        audit(request, 'payment.cancel', params.id);
        return paymentResource(row);
      },
      {
        scopes: ['payments:write'],
        claimsIdempotencyKey: true,
        params: IdParams,
        body: CancelPaymentBody,
        response: { 200: Payment, ...errorResponses(400, 401, 403, 404, 409, 413, 422, 503) },
        detail: {
          tags: TAGS,
          summary: 'Cancel a payment',
          operationId: 'cancelPayment',
          description:
            'From `requires_confirmation` or `requires_capture` (releases the authorization). The payment becomes `canceled` only ' +
            'once the processor has released the hold. If the processor\'s answer is lost, the answer is 200 with the payment still ' +
            '`requires_capture` and the cancel pending (a second cancel or a capture meanwhile is 409); reconciliation finishes it ' +
            'and `payment.canceled` follows. If the processor errs or cannot be reached, the answer is 503 `api_error` ' +
            '`processor_unavailable` and nothing changed. A retry with the same `Idempotency-Key` after a 5xx finishes this cancel ' +
            'instead of answering 409.',
        },
      },
    );
}
