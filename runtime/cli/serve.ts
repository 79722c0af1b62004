import { createDatabase, migrate } from '../../db';
import { loadConfig } from '../config';
import { createNimbus, type NimbusDefinition } from '../nimbus';
import { exitOnSignals, startServer } from '../server';
import { acceptLocalCommands, pluginCommands } from './commands';
import { assertServingRoles } from './database-roles';
import { migrationDatabaseUrl } from './migration-url';
import { assertDataDirFree, newLocalToken, publishLocalServer } from './local-server';

/**
 * `nimbus serve [--migrate] [--no-worker]`: the API, with the plugins' background
 * workers in-process unless `--no-worker`. Migrations run at start in development,
 * elsewhere only with `--migrate` (production runs the migration Job).
 */
export async function serveCommand(definition: NimbusDefinition, flags: ReadonlySet<string>): Promise<void> {
  const config = loadConfig();
  assertDataDirFree(config, 'serve');
  const migrationUrl = migrationDatabaseUrl(config);
  const nimbus = createNimbus(definition, { config });
  if (config.env === 'development' || flags.has('--migrate')) await migrateWith(nimbus.database, migrationUrl, config.databaseUrl);
  await assertServingRoles(nimbus.database, config, nimbus.logger);
  await nimbus.onStart();
  const workers = flags.has('--no-worker') ? [] : nimbus.startWorkers();
  const app = nimbus.createApp();
  const embedded = !config.databaseUrl;
  const localToken = newLocalToken();
  // Plugin commands (`nimbus bootstrap`) cannot open the embedded database while we hold it: they ask us.
  if (embedded) {
    acceptLocalCommands(app, pluginCommands(definition), localToken, (command, commandFlags) =>
      command.spec.run(nimbus.context, nimbus.service(command.plugin), commandFlags),
    );
  }
  const running = startServer(nimbus, app, workers);
  if (!embedded) return exitOnSignals(running.shutdown);
  const unpublish = publishLocalServer(config, running.url, localToken);
  exitOnSignals((reason) => running.shutdown(reason).finally(unpublish));
}

/** Migrations run as the owner when a separate migration URL is configured. */
async function migrateWith(database: Parameters<typeof migrate>[0], migrationUrl: string | undefined, servingUrl: string | undefined): Promise<void> {
  if (!migrationUrl || migrationUrl === servingUrl) return migrate(database);
  const owner = createDatabase({ url: migrationUrl, maxConnections: 1 });
  try {
    await migrate(owner);
  } finally {
    await owner.close();
  }
}
