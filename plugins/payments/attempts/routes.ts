import { Elysia } from 'elysia';
import type { Database } from '../../../db';
import type { Config } from '../../../runtime/config';
import type { Logger } from '../../../runtime/logger';
import { listParams } from '../../../runtime/pagination';
import { authGuard, tenantOf } from '../../auth';
import { errorResponses, IdParams, ListQuery } from '../../tenancy/model';
import { PaymentAttemptList } from './model';
import { listPaymentAttempts } from './store';

/** `GET /v1/payments/:id/attempts`: what each processor call of a payment came to. */
export function paymentAttemptRoutes(deps: { config: Config; database: Database; logger: Logger }) {
  return new Elysia({ name: 'nimbus:payments:attempts' })
    .use(authGuard(deps))
    .get(
      '/v1/payments/:id/attempts',
      ({ params, query, request }) => listPaymentAttempts(deps.database, tenantOf(request), params.id, listParams(query)),
      {
        scopes: ['payments:read', 'payments:write'],
        params: IdParams,
        query: ListQuery,
        response: { 200: PaymentAttemptList, ...errorResponses(400, 401, 403, 404) },
        detail: {
          tags: ['Payments'],
          summary: "List a payment's processor attempts, newest first",
          operationId: 'listPaymentAttempts',
          description:
            'One entry per call NimbusPay made to a processor for this payment and its refunds (authorize, capture, cancel, refund, ' +
            'and the `sync` calls of reconciliation): the processor, its answer or why there was none, the decline or error code, ' +
            'the tries made and the latency. Failover shows as one attempt per processor tried. Readable with `payments:read` or ' +
            '`payments:write`, or by `platform:support` with the `Nimbus-Tenant` header. Attempts are recorded just after each call, ' +
            'so one made by another replica a moment ago may take a moment to appear.',
        },
      },
    );
}
