import { migrate, pendingMigrations } from '../../db';
import { errorResponse, requestState } from '../http';
import { authenticationError, resourceMissing } from '../errors';
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { createNimbus, type App, type NimbusDefinition } from '../nimbus';
import type { AnyNimbusPlugin, CommandSpec } from '../plugin';
import { LOCAL_COMMAND_PATH, LOCAL_TOKEN_HEADER, localTokenMatches, runningLocalServer, type LocalServerInfo } from './local-server';

/** A command contributed by a plugin, with the plugin that owns its service. */
export interface PluginCommand {
  name: string;
  plugin: AnyNimbusPlugin;
  spec: CommandSpec<unknown>;
}

export function pluginCommands(definition: NimbusDefinition): PluginCommand[] {
  return definition.plugins.flatMap((plugin) =>
    Object.entries(plugin.commands ?? {}).map(([name, spec]) => ({ name, plugin, spec: spec as CommandSpec<unknown> })),
  );
}

async function runThroughServer(server: LocalServerInfo, command: PluginCommand, flags: ReadonlySet<string>): Promise<unknown> {
  const response = await fetch(`${server.url}${LOCAL_COMMAND_PATH}/${command.name}`, {
    method: 'POST',
    headers: { [LOCAL_TOKEN_HEADER]: server.token, 'content-type': 'application/json' },
    body: JSON.stringify({ flags: [...flags] }),
  });
  if (response.status !== 200) throw new Error(`the running server (pid ${server.pid}) refused '${command.name}': HTTP ${response.status}`);
  return response.json();
}

/**
 * `nimbus <plugin command>`. On the embedded database held by a running `nimbus serve`
 * the server runs it (see local-server.ts); otherwise this process opens the database,
 * applies migrations in development (elsewhere a database that is not migrated is an
 * error: run `nimbus migrate`), runs it and closes. Logs go to stderr so scripts can
 * parse stdout.
 */
export async function runPluginCommand(definition: NimbusDefinition, command: PluginCommand, flags: ReadonlySet<string>): Promise<void> {
  const config = loadConfig();
  const server = runningLocalServer(config);
  if (server) {
    command.spec.print(await runThroughServer(server, command, flags), flags, config);
    return;
  }
  const logger = createLogger({ level: config.logLevel, destination: process.stderr });
  const nimbus = createNimbus(definition, { config, logger });
  try {
    if (config.env === 'development') await migrate(nimbus.database);
    else if ((await pendingMigrations(nimbus.database)) > 0) {
      throw new Error('the database has pending migrations: run `nimbus migrate` first.');
    }
    const result = await command.spec.run(nimbus.context, nimbus.service(command.plugin), flags);
    command.spec.print(result, flags, config);
  } finally {
    await nimbus.database.close();
  }
}

/**
 * The hidden loopback route through which a CLI process asks the embedded server to run
 * a plugin command, guarded by the one-off token only the data directory's owner can read.
 */
export function acceptLocalCommands(app: App, commands: PluginCommand[], token: string, run: (command: PluginCommand, flags: ReadonlySet<string>) => Promise<unknown>): void {
  app.post(
    `${LOCAL_COMMAND_PATH}/:name`,
    async ({ request, params, body }) => {
      const id = requestState(request).id;
      if (!localTokenMatches(token, request.headers.get(LOCAL_TOKEN_HEADER))) {
        return errorResponse(authenticationError('token_invalid', 'Local command token required.'), id);
      }
      const command = commands.find((candidate) => candidate.name === params.name);
      if (!command) return errorResponse(resourceMissing('command', params.name), id);
      const given = (body as { flags?: unknown } | undefined)?.flags;
      const flags = new Set(Array.isArray(given) ? given.filter((flag): flag is string => command.spec.flags?.includes(flag) ?? false) : []);
      return run(command, flags);
    },
    { detail: { hide: true } },
  );
}
