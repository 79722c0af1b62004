import { Type } from '@sinclair/typebox';
import { Elysia } from 'elysia';
import type { Database } from '../db';
import { authGuard, TENANT_HEADER, tenantOf } from '../plugins/auth';
import { tenantExists } from '../plugins/auth/clients';
import type { Config } from '../runtime/config';
import { resourceMissing } from '../runtime/errors';
import { requestState } from '../runtime/http';
import type { Logger } from '../runtime/logger';
import { listParams } from '../runtime/pagination';
import { definePlugin } from '../runtime/plugin';
import { errorResponses, IdParams, ListQuery, RedeliverBody, Redelivery, WebhookDeliveryList } from './model';
import { redeliverEvent } from './service';
import { WebhookEndpointHealth } from './support-model';
import { endpointHealth, listEventDeliveries } from './support-service';

const TAG = 'Webhooks';

/**
 * The tenant a platform admin names for a platform write (Nimbus-Tenant, as support does
 * for reads). The header schema has checked that it is there and well formed; the tenant
 * must also exist, else 404 naming the header, as the guard answers support.
 */
async function namedTenant(database: Database, named: string): Promise<string> {
  const tenantId = named.trim();
  if (!(await tenantExists(database, tenantId))) throw resourceMissing('tenant', tenantId, TENANT_HEADER);
  return tenantId;
}

/** The header, required and documented on the route (validated after authentication and scope, as bodies are). */
const TenantHeader = Type.Object({ 'nimbus-tenant': Type.String({ description: 'The tenant that owns the event (ten_...).', pattern: '^ten_[A-Za-z0-9]{1,64}$' }) });

/**
 * What support (and tenants) read beside the endpoint routes, and the one platform write
 * of webhooks:
 * - `GET /v1/events/:id/deliveries`: every delivery attempt of one event;
 * - `GET /v1/webhook_endpoints/:id/health`: success ratio, queue, disabled reason;
 * - `POST /v1/support/events/:id/redeliver`: a platform admin redelivers a tenant's event.
 *   API.md keeps `platform:support` read-only and gives `platform:admin` no tenant data,
 *   so this is not the tenant route opened to platform tokens: it is a platform route,
 *   admin only, naming its tenant explicitly, answering only the queued deliveries, and
 *   audited on that tenant so its own admins see who redelivered.
 */
export function webhookSupportRoutes(deps: { config: Config; database: Database; logger: Logger }) {
  const { database } = deps;
  return new Elysia({ name: 'nimbus:webhooks:support' })
    .use(authGuard(deps))
    .get(
      '/v1/events/:id/deliveries',
      ({ params, query, request }) => listEventDeliveries(database, tenantOf(request), params.id, listParams(query)),
      {
        scopes: ['webhooks:read', 'webhooks:write'],
        params: IdParams,
        query: ListQuery,
        response: { 200: WebhookDeliveryList, ...errorResponses(400, 401, 403, 404) },
        detail: {
          tags: [TAG],
          summary: 'List the delivery attempts of an event, newest first',
          operationId: 'listEventDeliveries',
          description:
            'Every attempt to deliver this event, to every endpoint, redeliveries included, with the response status and the first 4 KiB ' +
            'of the answer. Readable with `webhooks:read` or `webhooks:write`, or by `platform:support` with the `Nimbus-Tenant` header.',
        },
      },
    )
    .get('/v1/webhook_endpoints/:id/health', ({ params, request }) => endpointHealth(database, tenantOf(request), params.id), {
      scopes: ['webhooks:read', 'webhooks:write'],
      params: IdParams,
      response: { 200: WebhookEndpointHealth, ...errorResponses(400, 401, 403, 404) },
      detail: {
        tags: [TAG],
        summary: 'Delivery health of a webhook endpoint',
        operationId: 'getWebhookEndpointHealth',
        description:
          'Successes and failures of the last 24 hours and their ratio, the deliveries still waiting (and since when), and why the platform ' +
          'disabled the endpoint, if it did. Readable with `webhooks:read` or `webhooks:write`, or by `platform:support` with `Nimbus-Tenant`.',
      },
    })
    .post(
      '/v1/support/events/:id/redeliver',
      async ({ params, body, headers, set, request }) => {
        const tenantId = await namedTenant(database, headers['nimbus-tenant']);
        const queued = await redeliverEvent(database, tenantId, params.id, body.endpoint);
        requestState(request).audit = { action: 'event.redeliver', resourceId: params.id, tenantId };
        set.status = 202;
        return queued;
      },
      {
        scopes: ['platform:admin'],
        params: IdParams,
        headers: TenantHeader,
        body: RedeliverBody,
        response: { 202: Redelivery, ...errorResponses(400, 401, 403, 404, 409, 413, 422) },
        detail: {
          tags: ['Support'],
          summary: "Redeliver a tenant's event (platform admin)",
          operationId: 'redeliverEventAsPlatform',
          description:
            'What `POST /v1/events/:id/redeliver` does, for a platform admin acting for a tenant (the support console uses it): ' +
            'queues a new delivery chain to `endpoint`, or to every enabled endpoint subscribed to the event type, and answers 202 ' +
            'with the queued deliveries. Requires `platform:admin` and the tenant in the `Nimbus-Tenant` header (missing: 400 ' +
            'parameter_missing; unknown tenant or event: 404). `platform:support` is read-only and gets 403 scope_missing. ' +
            "Recorded in the tenant's audit trail as `event.redeliver` by the platform client.",
        },
      },
    );
}

/**
 * The webhooks' support surface as its own plugin: list it after `webhooks` in the
 * composition root. The support console (plugins/console) uses these routes.
 */
export const webhookSupport = definePlugin({ name: 'webhook-support', routes: (ctx) => webhookSupportRoutes(ctx) });
