import { Elysia } from 'elysia';
import { migrate } from '../../db';
import { opsPlugin } from '../../plugins/ops';
import type { App } from '../app';
import { loadConfig } from '../config';
import { httpPlugin } from '../http';
import { exitOnSignals, startServer } from '../server';
import { createServices, createServicesReconciler } from '../services';
import { startBackgroundWorkers } from '../workers';
import { assertDataDirFree } from './local-server';

/**
 * `nimbus worker`: webhook delivery (and reconciliation, when wired) without the API.
 * It still serves /health/live, /health/ready and /metrics on PORT for the probes and
 * Prometheus; SIGTERM finishes in-flight deliveries, releases claims and exits 0.
 */
export async function workerCommand(): Promise<void> {
  const config = loadConfig();
  assertDataDirFree(config, 'nimbus worker');
  const services = createServices(config);
  if (config.env === 'development') await migrate(services.database);
  const workers = startBackgroundWorkers(services, { reconcilers: [createServicesReconciler(services)] });
  const running = startServer(
    services,
    (isDraining) =>
      new Elysia({ name: 'nimbus-worker', normalize: false })
        .use(httpPlugin({ logger: services.logger, metrics: services.metrics }))
        .use(opsPlugin({ config, database: services.database, metrics: services.metrics, isDraining })) as unknown as App,
    workers,
  );
  exitOnSignals(running.shutdown);
}
