import { migrate } from '../../db';
import { loadConfig } from '../config';
import { developmentFirstStart } from './bootstrap';
import { exitOnSignals, startServer } from '../server';
import { createAppFromServices, createServices } from '../services';
import { startBackgroundWorkers } from '../workers';

/**
 * `nimbus serve [--migrate] [--no-worker]`: the API, with the delivery and
 * reconciliation worker in-process unless `--no-worker`. Migrations run at start in
 * development, elsewhere only with `--migrate` (production runs the migration Job).
 */
export async function serveCommand(flags: Set<string>): Promise<void> {
  const config = loadConfig();
  const services = createServices(config);
  if (config.env === 'development' || flags.has('--migrate')) await migrate(services.database);
  await developmentFirstStart(config, services.database);
  const workers = flags.has('--no-worker') ? [] : startBackgroundWorkers(services);
  const running = startServer(services, (isDraining) => createAppFromServices(services, isDraining), workers);
  exitOnSignals(running.shutdown);
}
