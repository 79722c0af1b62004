import { Elysia } from 'elysia';
import { requestState } from '../../runtime/http';
import { listResponse } from '../../runtime/pagination';
import { requestCommit } from '../../runtime/unit-of-work';
import { refundResource, type RefundRow } from './service';
import { authGuard, tenantOf } from '../auth';
import { claimsIdempotencyKey, idempotencyOf } from '../idempotency';
import type { PaymentsPluginDeps } from './index';
import { CreateRefundBody, errorResponses, IdParams, ListOf, ListRefundsQuery, Refund } from './model';

const TAGS = ['Refunds'];

/** /v1/refunds (API.md "Refunds"). */
export function refundRoutes(deps: PaymentsPluginDeps) {
  const { refunds } = deps.service;
  return new Elysia({ name: 'nimbus:payments:refunds' })
    .use(authGuard(deps))
    .use(claimsIdempotencyKey)
    .post(
      '/v1/refunds',
      async ({ body, request, set }) => {
        // Committed with the refund's outcome (runtime/unit-of-work.ts): exactly what is sent.
        const finish = requestCommit(request, (row: RefundRow) => {
          requestState(request).audit = { action: 'refund.create', resourceId: row.id };
          return { status: 201, body: JSON.stringify(refundResource(row)), resourceId: row.id };
        });
        const refund = await refunds.create(tenantOf(request), body, idempotencyOf(request), finish);
        requestState(request).audit = { action: 'refund.create', resourceId: refund.id };
        set.status = 201;
        return refundResource(refund);
      },
      {
        scopes: ['payments:write'],
        claimsIdempotencyKey: true,
        body: CreateRefundBody,
        response: { 201: Refund, ...errorResponses(400, 401, 403, 404, 409, 413, 422, 503) },
        detail: {
          tags: TAGS,
          summary: 'Refund a payment, fully or partly',
          operationId: 'createRefund',
          description:
            'The payment must be `succeeded`. `amount` defaults to what remains: `amount_received` minus pending and succeeded refunds. ' +
            'More than that is 409 `refund_exceeds_captured`, also under concurrent requests. The answer shows the refund as the processor left it ' +
            '(`succeeded` at once for cards, `pending` for bank transfers until they settle). Send an `Idempotency-Key` header to ' +
            'retry safely: a retry after a 5xx or a lost answer returns the refund the first request created and never refunds twice.',
        },
      },
    )
    .get(
      '/v1/refunds',
      async ({ query, request }) => {
        const page = await refunds.list(tenantOf(request), query);
        return listResponse(page.rows.map(refundResource), page.hasMore);
      },
      {
        scopes: ['payments:read', 'payments:write'],
        query: ListRefundsQuery,
        response: { 200: ListOf(Refund), ...errorResponses(400, 401, 403, 404) },
        detail: { tags: TAGS, summary: 'List refunds, newest first', operationId: 'listRefunds' },
      },
    )
    .get('/v1/refunds/:id', async ({ params, request }) => refundResource(await refunds.retrieve(tenantOf(request), params.id)), {
      scopes: ['payments:read', 'payments:write'],
      params: IdParams,
      response: { 200: Refund, ...errorResponses(400, 401, 403, 404) },
      detail: { tags: TAGS, summary: 'Retrieve a refund', operationId: 'getRefund' },
    });
}
