import { migrate } from '../../db';
import { loadConfig } from '../config';
import { createNimbus, type NimbusDefinition } from '../nimbus';
import { exitOnSignals, startServer } from '../server';
import { assertServingRoles } from './database-roles';
import { assertDataDirFree } from './local-server';

/**
 * `nimbus worker`: the plugins' background workers (webhook delivery, reconciliation)
 * without the API. It still serves the `workerRoutes` plugins (/health/live,
 * /health/ready, /metrics) on PORT for the probes and Prometheus; SIGTERM finishes
 * in-flight work, releases claims and exits 0.
 */
export async function workerCommand(definition: NimbusDefinition): Promise<void> {
  const config = loadConfig();
  assertDataDirFree(config, 'nimbus worker');
  const nimbus = createNimbus(definition, { config });
  if (config.env === 'development') await migrate(nimbus.database);
  await assertServingRoles(nimbus.database, config, nimbus.logger);
  const workers = nimbus.startWorkers();
  const running = startServer(nimbus, nimbus.createWorkerApp(), workers);
  exitOnSignals(running.shutdown);
}
