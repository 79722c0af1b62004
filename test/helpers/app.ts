import { Writable } from 'node:stream';
import { createApp, type App } from '../../runtime/app';
import { type Config, loadConfig } from '../../runtime/config';
import { createLogger, type Logger } from '../../runtime/logger';
import { createMetrics, type Metrics } from '../../runtime/metrics';
import { createPaymentsService, type PaymentsService } from '../../runtime/payments';
import { createCallbackRelay } from '../../runtime/payments/relay';
import { defaultRegistry, type AnyRegistry } from '../../runtime/registry';
import { createTestDatabase, type TestDatabase } from './db';

/** Collects every log line a test app writes, so tests can scan them for secrets. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }
  text(): string {
    return this.lines.join('\n');
  }
}

export interface TestApp {
  app: App;
  config: Config;
  database: TestDatabase;
  logger: Logger;
  logs: LogCapture;
  metrics: Metrics;
  /** The app's registry (simulator callbacks are delivered to this app in-process). */
  registry: AnyRegistry;
  /** The app's payments layer, e.g. for `createReconciler(t.payments, { autoStart: false }).runOnce()`. */
  payments: PaymentsService;
  /** Sends one request through the app in-process (no socket). */
  request(method: string, path: string, options?: RequestOptions): Promise<Response>;
  close(): Promise<void>;
}

export interface RequestOptions {
  body?: unknown;
  token?: string;
  headers?: Record<string, string>;
}

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ NIMBUS_ENV: 'development', LOG_LEVEL: 'info', NIMBUS_SIMULATOR_SETTLE_MS: '50', ...env });
}

export async function createTestApp(
  options: {
    env?: Record<string, string>;
    database?: TestDatabase;
    /** A custom registry (e.g. with a test-only processor); receives this app's callback relay. */
    registry?: (deliverCallback: (processorId: string, request: Request) => Promise<void>) => AnyRegistry;
  } = {},
): Promise<TestApp> {
  const config = testConfig(options.env);
  const database = options.database ?? (await createTestDatabase());
  const logs = new LogCapture();
  const logger = createLogger({ level: 'debug', destination: logs });
  const metrics = createMetrics();
  const callbackRelay = createCallbackRelay();
  const registry =
    options.registry?.(callbackRelay.deliver) ??
    defaultRegistry({ settleMs: config.simulatorSettleMs, latencyMs: config.simulatorLatencyMs, deliverCallback: callbackRelay.deliver });
  const payments = createPaymentsService({ database, registry, config, metrics, logger });
  const app = createApp({ config, database, logger, metrics, registry, payments, callbackRelay });
  return {
    app,
    config,
    database,
    logger,
    logs,
    metrics,
    registry,
    payments,
    request: (method, path, requestOptions = {}) => {
      const headers: Record<string, string> = { ...requestOptions.headers };
      let body: string | undefined;
      if (requestOptions.body !== undefined) {
        body = typeof requestOptions.body === 'string' ? requestOptions.body : JSON.stringify(requestOptions.body);
        headers['content-type'] ??= 'application/json';
      }
      if (requestOptions.token) headers.authorization = `Bearer ${requestOptions.token}`;
      return app.handle(new Request(`http://localhost${path}`, { method, headers, body }));
    },
    close: async () => {
      if (!options.database) await database.close();
    },
  };
}
