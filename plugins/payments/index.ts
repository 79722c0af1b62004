import { Elysia } from 'elysia';
import type { Database } from '../../db';
import type { Config } from '../../runtime/config';
import type { Logger } from '../../runtime/logger';
import type { AnyRegistry } from '../../runtime/registry';
import { definePlugin } from '../../runtime/plugin';
import { callbackRoutes } from './callbacks-routes';
import { paymentSchemas, type PaymentSchemas } from './model';
import { paymentRoutes } from './payments-routes';
import { refundRoutes } from './refunds-routes';
import { routingRoutes } from './routing-routes';
import { createPaymentsService, createReconciler, type PaymentsService } from './service';

export interface PaymentsPluginDeps {
  config: Config;
  database: Database;
  logger: Logger;
  /** The registry's methods and processors, named in the routing schemas. */
  registry: Pick<AnyRegistry, 'paymentMethodTypes' | 'processorIds'>;
  service: PaymentsService;
  /** The create body and payment object, derived from the registered payment methods. */
  schemas: PaymentSchemas;
}

/** Payments, refunds, processor callbacks and tenant routing over HTTP; the logic lives in ./service. */
export function paymentsRoutes(deps: PaymentsPluginDeps) {
  return new Elysia({ name: 'nimbus:payments' })
    .use(paymentRoutes(deps))
    .use(refundRoutes(deps))
    .use(callbackRoutes(deps))
    .use(routingRoutes(deps));
}

/**
 * The payments plugin: payments, refunds, processor callbacks and the reconciliation
 * worker, over the registry's payment methods and processors.
 */
export const payments = definePlugin({
  name: 'payments',
  setup: (ctx): PaymentsService => createPaymentsService(ctx),
  routes: (ctx, service) => paymentsRoutes({ ...ctx, service, schemas: paymentSchemas(ctx.registry) }),
  workers: (_ctx, service) => [createReconciler(service)],
});

export { cardError } from './payments-routes';
export * from './service';
