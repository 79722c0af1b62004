import { createDatabase, migrate, pendingMigrations } from '../../db';
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { assertDataDirFree } from './local-server';
import { migrationDatabaseUrl } from './migration-url';

/** `nimbus migrate`: applies pending migrations (as NIMBUS_MIGRATION_DATABASE_URL when set) and exits 0. Needs no plugin. */
export async function migrateCommand(): Promise<void> {
  const config = loadConfig();
  assertDataDirFree(config, 'nimbus migrate');
  const logger = createLogger({ level: config.logLevel });
  const database = createDatabase({ url: migrationDatabaseUrl(config), dataDir: config.dataDir });
  const before = await pendingMigrations(database);
  await migrate(database);
  logger.info({ applied: before, database: database.kind }, 'migrations applied');
  await database.close();
}
