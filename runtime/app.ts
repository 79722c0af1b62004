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
import { webhookRoutes } from '../webhooks';

export interface AppDeps {
  config: Config;
  database: Database;
  logger: Logger;
  metrics: Metrics;
  /** True while draining after SIGTERM (readiness turns 503). */
  isDraining?: () => boolean;
}

/**
 * Builds the whole HTTP surface from its dependencies; no globals, so tests can run
 * several apps side by side. `normalize: false` because API.md wants unknown body
 * fields rejected (400), not silently stripped.
 */
export function createApp(deps: AppDeps) {
  const { config, database, logger, metrics } = deps;
  return new Elysia({ name: 'nimbus', normalize: false })
    .use(httpPlugin({ logger, metrics }))
    // Before every plugin with /v1 routes: its global after-response hook audits them.
    .use(auditTrail({ database, logger }))
    .use(docsPlugin())
    .use(opsPlugin({ config, database, metrics, isDraining: deps.isDraining ?? (() => false) }))
    .use(authPlugin({ config, database, logger }))
    .use(tenancyRoutes({ config, database, logger }))
    .use(auditRoutes({ config, database, logger }))
    .use(webhookRoutes({ config, database, logger }));
}

export type App = ReturnType<typeof createApp>;
