import { definePlugin } from '../../runtime/plugin';
import { paymentSchemas } from '../payments/model';
import { eventRoutes } from './routes';

export { EVENT_TYPES, eventResource, listEvents, retrieveEvent, type EventType } from './service';

/** GET /v1/events and /v1/events/:id: the event log of payments and refunds. */
export const events = definePlugin({
  name: 'events',
  routes: (ctx) => eventRoutes({ ...ctx, schemas: paymentSchemas(ctx.registry) }),
});
