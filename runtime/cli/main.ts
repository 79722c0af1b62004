#!/usr/bin/env bun
import { ConfigError } from '../config';
import { parseArgs } from './args';
import { bootstrapCommand } from './bootstrap';
import { migrateCommand } from './migrate';
import { serveCommand } from './serve';
import { workerCommand } from './worker';

const USAGE = `Usage: nimbus <command>

  serve [--migrate] [--no-worker]   run the API (and the worker, unless --no-worker)
  worker                            run webhook delivery and reconciliation only
  migrate                           apply pending database migrations and exit
  bootstrap [--json]                create a platform admin client and print its credentials

Configuration comes from the environment; see README.md#configuration.`;

const FLAGS: Record<string, readonly string[]> = {
  serve: ['--migrate', '--no-worker'],
  worker: [],
  migrate: [],
  bootstrap: ['--json'],
  help: [],
};

async function main(argv: string[]): Promise<void> {
  const { command, flags } = parseArgs(argv, FLAGS);
  switch (command) {
    case 'serve':
      return serveCommand(flags);
    case 'worker':
      return workerCommand();
    case 'bootstrap':
      return bootstrapCommand(flags);
    case 'migrate':
      return migrateCommand();
    case 'help':
    case undefined:
      console.log(USAGE);
      return;
    default:
      throw new Error(`unknown command '${command}'.\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`nimbus: invalid configuration: ${error.message}`);
  } else {
    console.error(`nimbus: ${error instanceof Error ? error.message : String(error)}`);
  }
  process.exit(1);
});
