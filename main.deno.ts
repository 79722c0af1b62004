/**
 * NimbusPay on Deno: `Deno.serve` in front of the same web-standard fetch handler
 * (`createApp().fetch`) that `nimbus serve` runs on Bun, built from the same composition
 * root (nimbus.config.ts).
 *
 * Bun is the primary runtime: the `nimbus` CLI (main.ts: serve, worker, migrate,
 * bootstrap), the tests and the benchmarks run on Bun. This entry point only serves the
 * API, with the background workers in-process, like `nimbus serve` without flags.
 *
 * Run it from the repository root after `npm ci` (Deno takes the npm packages from
 * node_modules: deno.json sets `"nodeModulesDir": "manual"`, plus sloppy imports for the
 * tree's extensionless relative imports; deno itself is a devDependency):
 *
 *   npm run start:deno
 *   # which is:
 *   deno run --no-prompt --allow-env --allow-net --allow-read --allow-write --allow-sys=hostname main.deno.ts
 *
 * Permissions, explicit (no -A; --no-prompt makes a missing one an error, never a
 * question): env, the configuration is the environment; net, the listener, PostgreSQL,
 * processors and webhook deliveries (any host); read, migrations, npm packages' own files
 * (PGlite's WebAssembly) and the data directory; write, the embedded data directory and
 * the `.server.json` beside it (unused with DATABASE_URL); sys=hostname, for log lines
 * and the webhook worker's id.
 */
import { migrate } from './db';
import nimbusDefinition from './nimbus.config';
import { acceptLocalCommands, pluginCommands } from './runtime/cli/commands';
import { assertDataDirFree, newLocalToken, publishLocalServer } from './runtime/cli/local-server';
import { ConfigError, loadConfig } from './runtime/config';
import { createNimbus } from './runtime/nimbus';

/** The few Deno APIs used here (typed locally: the project's TypeScript setup has Bun's types, not Deno's). */
interface DenoNetAddr {
  hostname: string;
  port: number;
}
declare const Deno: {
  env: { toObject(): Record<string, string> };
  serve(
    options: { hostname: string; port: number; onListen(addr: DenoNetAddr): void },
    handler: (request: Request, info: { remoteAddr: DenoNetAddr }) => Response | Promise<Response>,
  ): { shutdown(): Promise<void> };
  addSignalListener(signal: 'SIGTERM' | 'SIGINT', handler: () => void): void;
  exit(code: number): never;
};

async function main(): Promise<void> {
  const env = Deno.env.toObject();
  const config = loadConfig(env);
  assertDataDirFree(config, 'main.deno.ts');
  const nimbus = createNimbus(nimbusDefinition, { config, env });
  const { logger, database } = nimbus;
  // As `nimbus serve`: migrations at start in development only (elsewhere the migration Job runs them).
  if (config.env === 'development') await migrate(database);
  await nimbus.onStart();
  const workers = nimbus.startWorkers();
  const app = nimbus.createApp();

  // On the embedded database, `nimbus bootstrap` (Bun) asks this process instead of opening the data directory.
  const embedded = !config.databaseUrl;
  const localToken = newLocalToken();
  if (embedded) {
    acceptLocalCommands(app, pluginCommands(nimbusDefinition), localToken, (command, flags) =>
      command.spec.run(nimbus.context, nimbus.service(command.plugin), flags),
    );
  }

  // Elysia hands routes Bun's `server.requestIP(request)` (the token endpoint rate-limits per
  // client address); on Deno the peer address comes with each request, so answer it from there.
  const peers = new WeakMap<Request, DenoNetAddr>();
  const requestIP = (request: Request) => {
    const peer = peers.get(request);
    return peer ? { address: peer.hostname, port: peer.port, family: peer.hostname.includes(':') ? 'IPv6' : 'IPv4' } : null;
  };
  app.server = { requestIP } as unknown as typeof app.server;

  let unpublish = () => {};
  const server = Deno.serve(
    {
      hostname: config.host,
      port: config.port,
      onListen({ port }) {
        const url = `http://${config.host}:${port}`;
        if (embedded) unpublish = publishLocalServer(config, url, localToken);
        logger.info({ host: config.host, port, env: config.env, database: database.kind, runtime: 'deno' }, 'NimbusPay API listening');
      },
    },
    (request, info) => {
      peers.set(request, info.remoteAddr);
      return app.fetch(request);
    },
  );

  // SIGTERM/SIGINT: readiness turns 503, the listener closes and in-flight requests finish
  // (bounded by NIMBUS_SHUTDOWN_GRACE_MS), workers release their claims, the database closes, exit 0.
  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string) =>
    (stopping ??= (async () => {
      nimbus.setDraining();
      logger.info({ reason, grace_ms: config.shutdownGraceMs }, 'shutting down: draining in-flight work');
      const drained = Promise.all([server.shutdown(), ...workers.map((worker) => worker.stop())]).then(() => 'drained' as const);
      const grace = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), config.shutdownGraceMs));
      if ((await Promise.race([drained, grace])) === 'timeout') logger.warn('grace period over: closing remaining connections');
      await database.close().catch(() => {});
      unpublish();
      logger.info('stopped');
    })());
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    Deno.addSignalListener(signal, () => {
      shutdown(signal).then(
        () => Deno.exit(0),
        () => Deno.exit(1),
      );
    });
  }
}

main().catch((error: unknown) => {
  // A bad variable gets the CLI's one-line message; anything else its stack (a runtime difference shows where).
  if (error instanceof ConfigError) console.error(`nimbus: invalid configuration: ${error.message}`);
  else console.error('nimbus:', error);
  Deno.exit(1);
});
