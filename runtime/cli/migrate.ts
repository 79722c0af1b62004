import { migrate, pendingMigrations } from '../../db';
import { loadConfig } from '../config';
import { createServices } from '../services';
import { assertDataDirFree } from './local-server';

/** `nimbus migrate`: applies pending migrations and exits 0. */
export async function migrateCommand(): Promise<void> {
  const config = loadConfig();
  assertDataDirFree(config, 'nimbus migrate');
  const services = createServices(config);
  const before = await pendingMigrations(services.database);
  await migrate(services.database);
  services.logger.info({ applied: before, database: services.database.kind }, 'migrations applied');
  await services.database.close();
}
