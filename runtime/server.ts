import type { App, Nimbus } from './nimbus';

export interface RunningServer {
  url: string;
  port: number;
  /** Drains in-flight requests (up to the grace period) and closes the database. */
  shutdown(reason: string): Promise<void>;
}

/** Long-running background loops (webhook delivery, reconciliation) that stop on shutdown. */
export interface BackgroundWorker {
  name: string;
  /** Stops claiming new work, finishes or releases what it holds, then resolves. */
  stop(): Promise<void>;
}

/**
 * Starts Bun's HTTP server for the app. On shutdown: readiness turns 503, the listener
 * closes so new connections are refused, in-flight requests finish (bounded by
 * NIMBUS_SHUTDOWN_GRACE_MS), workers release their claims, the database closes.
 */
export function startServer(nimbus: Nimbus, app: App, workers: BackgroundWorker[] = []): RunningServer {
  const { config, logger, database } = nimbus;
  // reusePort off (Elysia turns it on): with SO_REUSEPORT a second process on a port
  // already served starts without a word and the kernel splits connections between the
  // two. A port in use must be a start-up error, as DevOps expect.
  app.listen({ hostname: config.host, port: config.port, reusePort: false });
  const server = app.server!;
  const port = server.port ?? config.port;
  logger.info({ host: config.host, port, env: config.env, database: database.kind }, 'NimbusPay API listening');

  let stopping: Promise<void> | undefined;
  async function shutdown(reason: string): Promise<void> {
    if (stopping) return stopping;
    nimbus.setDraining();
    logger.info({ reason, grace_ms: config.shutdownGraceMs }, 'shutting down: draining in-flight work');
    stopping = (async () => {
      const grace = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), config.shutdownGraceMs).unref());
      const drained = Promise.all([server.stop(false), ...workers.map((worker) => worker.stop())]).then(() => 'drained' as const);
      const outcome = await Promise.race([drained, grace]);
      if (outcome === 'timeout') {
        logger.warn('grace period over: closing remaining connections');
        await server.stop(true);
      }
      await database.close().catch(() => {});
      logger.info('stopped');
    })();
    return stopping;
  }

  return { url: `http://${config.host}:${port}`, port, shutdown };
}

/** SIGTERM/SIGINT -> graceful shutdown -> exit 0 (API.md "Running it"). */
export function exitOnSignals(shutdown: (reason: string) => Promise<void>): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      shutdown(signal).then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}
