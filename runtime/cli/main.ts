import { ConfigError } from '../config';
import { serializeError } from '../log-errors';
import type { NimbusDefinition } from '../nimbus';
import { parseArgs } from './args';
import { pluginCommands, runPluginCommand } from './commands';
import { migrateCommand } from './migrate';
import { serveCommand } from './serve';
import { workerCommand } from './worker';

const KERNEL_USAGE = [
  '  serve [--migrate] [--no-worker]   run the API (and the workers, unless --no-worker)',
  '  worker                            run webhook delivery and reconciliation only',
  '  migrate                           apply pending database migrations and exit',
];

function usage(definition: NimbusDefinition): string {
  const lines = [...KERNEL_USAGE, ...pluginCommands(definition).map((command) => `  ${command.spec.usage}`)];
  return `Usage: nimbus <command>\n\n${lines.join('\n')}\n\nConfiguration comes from the environment; see README.md#configuration.`;
}

async function dispatch(definition: NimbusDefinition, argv: string[]): Promise<void> {
  const commands = pluginCommands(definition);
  const flags: Record<string, readonly string[]> = {
    serve: ['--migrate', '--no-worker'],
    worker: [],
    migrate: [],
    help: [],
    ...Object.fromEntries(commands.map((command) => [command.name, command.spec.flags ?? []])),
  };
  const parsed = parseArgs(argv, flags);
  switch (parsed.command) {
    case 'serve':
      return serveCommand(definition, parsed.flags);
    case 'worker':
      return workerCommand(definition);
    case 'migrate':
      return migrateCommand();
    case 'help':
    case undefined:
      console.log(usage(definition));
      return;
    default: {
      const command = commands.find((candidate) => candidate.name === parsed.command);
      if (!command) throw new Error(`unknown command '${parsed.command}'.\n\n${usage(definition)}`);
      return runPluginCommand(definition, command, parsed.flags);
    }
  }
}

/** The `nimbus` CLI over a composition root (main.ts passes nimbus.config.ts). */
export function runCli(definition: NimbusDefinition, argv: string[]): void {
  dispatch(definition, argv).catch((error: unknown) => {
    if (error instanceof ConfigError) {
      console.error(`nimbus: invalid configuration: ${error.message}`);
    } else {
      // The same scrubbing as the logs: a database error's message can carry bound parameters.
      const safe = serializeError(error) as { message?: unknown };
      console.error(`nimbus: ${typeof safe?.message === 'string' ? safe.message : String(error)}`);
    }
    process.exit(1);
  });
}
