import { Elysia } from 'elysia';
import type { Database } from '../db';
import { authGuard, tenantOf } from '../plugins/auth';
import type { Config } from '../runtime/config';
import { requestState } from '../runtime/http';
import type { Logger } from '../runtime/logger';
import { listParams } from '../runtime/pagination';
import {
  CreateEndpointBody,
  DeletedEndpoint,
  errorResponses,
  IdParams,
  ListQuery,
  RedeliverBody,
  Redelivery,
  UpdateEndpointBody,
  WebhookDeliveryList,
  WebhookEndpoint,
  WebhookEndpointList,
  WebhookEndpointWithSecret,
} from './model';
import {
  createEndpoint,
  deleteEndpoint,
  getEndpoint,
  listDeliveries,
  listEndpoints,
  redeliverEvent,
  rotateSecret,
  updateEndpoint,
} from './service';
import type { Resolver } from './ssrf';

export interface WebhookRoutesDeps {
  config: Config;
  database: Database;
  logger: Logger;
  /** DNS for the creation-time SSRF check (tests inject one). */
  resolve?: Resolver;
}

const TAG = 'Webhooks';

/** `/v1/webhook_endpoints` and `/v1/events/:id/redeliver` (API.md "Events and webhooks"). */
export function webhookRoutes(deps: WebhookRoutesDeps) {
  const { database } = deps;
  const secretKeys = deps.config.webhookSecretKeys;
  const urlOptions = { allowPrivate: deps.config.webhookAllowPrivate, resolve: deps.resolve, secretKeys };
  const audit = (request: Request, action: string, resourceId: string) => {
    requestState(request).audit = { action, resourceId };
  };
  return new Elysia({ name: 'nimbus:webhooks' })
    .use(authGuard(deps))
    .post(
      '/v1/webhook_endpoints',
      async ({ body, set, request }) => {
        const endpoint = await createEndpoint(database, tenantOf(request), body, urlOptions);
        audit(request, 'webhook_endpoint.create', endpoint.id);
        set.status = 201;
        return endpoint;
      },
      {
        scopes: ['webhooks:write'],
        body: CreateEndpointBody,
        response: { 201: WebhookEndpointWithSecret, ...errorResponses(400, 401, 403, 409, 413, 422) },
        detail: {
          tags: [TAG],
          summary: 'Create a webhook endpoint',
          operationId: 'createWebhookEndpoint',
          description:
            'The answer carries the signing `secret` (whsec_ + base64 of 32 random bytes), shown only here and on rotation. ' +
            'The URL must be https:// and resolve only to public addresses (loopback, RFC 1918, link-local, CGNAT, unique-local IPv6, ' +
            'IPv4-mapped IPv6, 0.0.0.0/8 and metadata addresses are refused with 400 parameter_invalid, param url); ' +
            'a host name that does not resolve yet is accepted and checked again at every delivery.',
        },
      },
    )
    .get('/v1/webhook_endpoints', ({ query, request }) => listEndpoints(database, tenantOf(request), listParams(query)), {
      scopes: ['webhooks:read', 'webhooks:write'],
      query: ListQuery,
      response: { 200: WebhookEndpointList, ...errorResponses(400, 401, 403, 404) },
      detail: { tags: [TAG], summary: 'List webhook endpoints, newest first', operationId: 'listWebhookEndpoints' },
    })
    .get('/v1/webhook_endpoints/:id', ({ params, request }) => getEndpoint(database, tenantOf(request), params.id), {
      scopes: ['webhooks:read', 'webhooks:write'],
      params: IdParams,
      response: { 200: WebhookEndpoint, ...errorResponses(400, 401, 403, 404) },
      detail: { tags: [TAG], summary: 'Retrieve a webhook endpoint', operationId: 'getWebhookEndpoint' },
    })
    .patch(
      '/v1/webhook_endpoints/:id',
      async ({ params, body, request }) => {
        const endpoint = await updateEndpoint(database, tenantOf(request), params.id, body, urlOptions);
        audit(request, 'webhook_endpoint.update', endpoint.id);
        return endpoint;
      },
      {
        scopes: ['webhooks:write'],
        params: IdParams,
        body: UpdateEndpointBody,
        response: { 200: WebhookEndpoint, ...errorResponses(400, 401, 403, 404, 413) },
        detail: {
          tags: [TAG],
          summary: 'Update a webhook endpoint',
          operationId: 'updateWebhookEndpoint',
          description: 'Change `url`, `enabled_events`, `status` (enabled | disabled) or `description`. Deliveries due while an endpoint is disabled are not sent.',
        },
      },
    )
    .delete(
      '/v1/webhook_endpoints/:id',
      async ({ params, request }) => {
        const deleted = await deleteEndpoint(database, tenantOf(request), params.id);
        audit(request, 'webhook_endpoint.delete', params.id);
        return deleted;
      },
      {
        scopes: ['webhooks:write'],
        params: IdParams,
        response: { 200: DeletedEndpoint, ...errorResponses(400, 401, 403, 404, 413) },
        detail: { tags: [TAG], summary: 'Delete a webhook endpoint and its delivery history', operationId: 'deleteWebhookEndpoint' },
      },
    )
    .post(
      '/v1/webhook_endpoints/:id/rotate_secret',
      async ({ params, request }) => {
        const endpoint = await rotateSecret(database, tenantOf(request), params.id, { secretKeys });
        audit(request, 'webhook_endpoint.rotate_secret', params.id);
        return endpoint;
      },
      {
        scopes: ['webhooks:write'],
        params: IdParams,
        response: { 200: WebhookEndpointWithSecret, ...errorResponses(400, 401, 403, 404, 409, 413, 422) },
        detail: {
          tags: [TAG],
          summary: 'Rotate the signing secret',
          operationId: 'rotateWebhookEndpointSecret',
          description: 'Answers the endpoint with its new `secret`. For 24 hours every delivery carries two signatures (new and old, space separated), so receivers can switch without losing events.',
        },
      },
    )
    .get(
      '/v1/webhook_endpoints/:id/deliveries',
      ({ params, query, request }) => listDeliveries(database, tenantOf(request), params.id, listParams(query)),
      {
        scopes: ['webhooks:read', 'webhooks:write'],
        params: IdParams,
        query: ListQuery,
        response: { 200: WebhookDeliveryList, ...errorResponses(400, 401, 403, 404) },
        detail: {
          tags: [TAG],
          summary: 'List delivery attempts, newest first',
          operationId: 'listWebhookDeliveries',
          description:
            'One entry per attempt. A scheduled retry is listed as `pending` with its `next_attempt_at`; any HTTP answer is in `response_status` ' +
            '(a 3xx counts as a failure: redirects are not followed), a network error, timeout or refused address in `error`.',
        },
      },
    )
    .post(
      '/v1/events/:id/redeliver',
      async ({ params, body, set, request }) => {
        const queued = await redeliverEvent(database, tenantOf(request), params.id, body.endpoint);
        audit(request, 'event.redeliver', params.id);
        set.status = 202;
        return queued;
      },
      {
        scopes: ['webhooks:write'],
        params: IdParams,
        body: RedeliverBody,
        response: { 202: Redelivery, ...errorResponses(400, 401, 403, 404, 409, 413, 422) },
        detail: {
          tags: [TAG],
          summary: 'Queue a fresh delivery of an event',
          operationId: 'redeliverEvent',
          description:
            'Queues a new delivery chain (attempt 1, due now) to `endpoint`, or when omitted to every enabled endpoint subscribed to the event type, ' +
            'and answers 202 with the queued deliveries. A disabled `endpoint` is 409 webhook_endpoint_disabled.',
        },
      },
    );
}
