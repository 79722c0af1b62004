import type { Static } from '@sinclair/typebox';
import { Elysia } from 'elysia';
import { listEvents, retrieveEvent } from './service';
import { authGuard, tenantOf } from '../auth';
import type { Database } from '../../db';
import type { Config } from '../../runtime/config';
import type { Logger } from '../../runtime/logger';
import { errorResponses, IdParams, ListEventsQuery, ListOf, type PaymentSchemas } from '../payments/model';

const TAGS = ['Events'];
// Events store the object snapshot as JSON; its shape is the payment or refund resource of that time.
type EventBody = Static<PaymentSchemas['Event']>;

/** GET /v1/events and /v1/events/:id (the webhook plugin owns redelivery). */
export function eventRoutes(deps: { config: Config; database: Database; logger: Logger; schemas: PaymentSchemas }) {
  const { database } = deps;
  const { Event } = deps.schemas;
  return new Elysia({ name: 'nimbus:payments:events' })
    .use(authGuard(deps))
    .get('/v1/events', async ({ query, request }) => (await listEvents(database, tenantOf(request), query)) as unknown as { object: 'list'; data: EventBody[]; has_more: boolean }, {
      scopes: ['events:read'],
      query: ListEventsQuery,
      response: { 200: ListOf(Event), ...errorResponses(400, 401, 403, 404) },
      detail: {
        tags: TAGS,
        summary: 'List events, newest first',
        operationId: 'listEvents',
        description: 'Every state change of a payment or refund, with the object as of that change. Filter by `type` (exact, or `payment.*` as Stripe allows).',
      },
    })
    .get('/v1/events/:id', async ({ params, request }) => (await retrieveEvent(database, tenantOf(request), params.id)) as unknown as EventBody, {
      scopes: ['events:read'],
      params: IdParams,
      response: { 200: Event, ...errorResponses(400, 401, 403, 404) },
      detail: { tags: TAGS, summary: 'Retrieve an event', operationId: 'getEvent' },
    });
}
