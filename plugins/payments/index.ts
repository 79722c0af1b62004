import { Elysia } from 'elysia';
import type { Database } from '../../db';
import type { Config } from '../../runtime/config';
import type { Logger } from '../../runtime/logger';
import type { PaymentsService } from '../../runtime/payments';
import { callbackRoutes } from './callbacks-routes';
import { eventRoutes } from './events-routes';
import { paymentRoutes } from './payments-routes';
import { refundRoutes } from './refunds-routes';

export interface PaymentsPluginDeps {
  config: Config;
  database: Database;
  logger: Logger;
  service: PaymentsService;
}

/** Payments, refunds, events and processor callbacks over HTTP; the logic lives in runtime/payments. */
export function paymentsPlugin(deps: PaymentsPluginDeps) {
  return new Elysia({ name: 'nimbus:payments' })
    .use(paymentRoutes(deps))
    .use(refundRoutes(deps))
    .use(eventRoutes(deps))
    .use(callbackRoutes(deps));
}

export { cardError } from './payments-routes';
