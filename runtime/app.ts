import { Elysia } from 'elysia';
import type { Database } from '../db';
import { docsPlugin, opsPlugin } from '../plugins/ops';
import type { Config } from './config';
import { httpPlugin } from './http';
import type { Logger } from './logger';
import type { Metrics } from './metrics';

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
    .use(docsPlugin())
    .use(opsPlugin({ config, database, metrics, isDraining: deps.isDraining ?? (() => false) }));
}

export type App = ReturnType<typeof createApp>;
