import { Elysia } from 'elysia';
import type { Database } from '../db';
import { authPlugin } from '../plugins/auth';
import { docsPlugin, opsPlugin } from '../plugins/ops';
import { tenancyRoutes } from '../plugins/tenancy';
import { auditRoutes, auditTrail } from './audit';
import type { Config } from './config';
import { httpPlugin } from './http';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import { idempotencyPlugin } from '../plugins/idempotency';
import { paymentsPlugin } from '../plugins/payments';
import { createPaymentsService, type PaymentsService } from './payments';
import { createCallbackRelay, type CallbackRelay } from './payments/relay';
import { defaultRegistry, type AnyRegistry } from './registry';
import { webhookRoutes } from '../webhooks';

export interface AppDeps {
  config: Config;
  database: Database;
  logger: Logger;
  metrics: Metrics;
  /** True while draining after SIGTERM (readiness turns 503). */
  isDraining?: () => boolean;
  /** Payment methods and processors; default: the built-in registry with the simulator. */
  registry?: AnyRegistry;
  /** The payments layer (shared with the reconciler); built from `registry` when absent. */
  payments?: PaymentsService;
  /** Where the registry's simulator sends its callbacks; the app attaches itself to it. */
  callbackRelay?: CallbackRelay;
}

/**
 * Builds the whole HTTP surface from its dependencies; no globals, so tests can run
 * several apps side by side. `normalize: false` because API.md wants unknown body
 * fields rejected (400), not silently stripped.
 */
export function createApp(deps: AppDeps) {
  const { config, database, logger, metrics } = deps;
  const relay = deps.callbackRelay ?? createCallbackRelay();
  const registry =
    deps.registry ??
    defaultRegistry({ settleMs: config.simulatorSettleMs, latencyMs: config.simulatorLatencyMs, deliverCallback: relay.deliver });
  const payments = deps.payments ?? createPaymentsService({ database, registry, config, metrics, logger });
  const app = new Elysia({ name: 'nimbus', normalize: false })
    .use(httpPlugin({ logger, metrics }))
    // Before every plugin with /v1 routes: its global after-response hook audits them.
    .use(auditTrail({ database, logger }))
    // Before every plugin with POST /v1 routes: its global hooks make them idempotent.
    .use(idempotencyPlugin({ database, logger }))
    .use(docsPlugin())
    .use(opsPlugin({ config, database, metrics, isDraining: deps.isDraining ?? (() => false) }))
    .use(authPlugin({ config, database, logger }))
    .use(tenancyRoutes({ config, database, logger }))
    .use(auditRoutes({ config, database, logger }))
    .use(webhookRoutes({ config, database, logger }))
    .use(paymentsPlugin({ config, database, logger, service: payments }));
  relay.attach((request) => app.handle(request));
  return app;
}

export type App = ReturnType<typeof createApp>;
