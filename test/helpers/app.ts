import { Writable } from 'node:stream';
import nimbusConfig from '../../nimbus.config';
import { payments as paymentsPlugin, type PaymentsService } from '../../plugins/payments';
import { type Config, loadConfig } from '../../runtime/config';
import { createLogger, type Logger } from '../../runtime/logger';
import { createMetrics, type Metrics } from '../../runtime/metrics';
import { createNimbus, type App, type Nimbus, type NimbusDefinition } from '../../runtime/nimbus';
import type { AnyRegistry } from '../../runtime/registry';
import { createTestDatabase, type TestDatabase } from './db';
import { observeApp, SPEC_PATH } from './openapi-observer';

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
  nimbus: Nimbus;
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

/** The environment of a test app: the simulator settles after 50 ms unless a test says otherwise. */
export function testEnv(env: Record<string, string> = {}): Record<string, string> {
  return { NIMBUS_ENV: 'development', LOG_LEVEL: 'info', NIMBUS_SIMULATOR_SETTLE_MS: '50', ...env };
}

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig(testEnv(env));
}

export interface TestAppOptions {
  env?: Record<string, string>;
  database?: TestDatabase;
  /** Replaces parts of the composition root (e.g. a test-only processor), as a deployer would. */
  definition?: Partial<NimbusDefinition>;
  /** Processor credentials by id instead of the environment. */
  credentials?: Record<string, unknown>;
}

/** NimbusPay built from nimbus.config.ts, as `nimbus serve` builds it, on a fresh test database. */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const env = testEnv(options.env);
  const config = loadConfig(env);
  const database = options.database ?? (await createTestDatabase());
  const logs = new LogCapture();
  const logger = createLogger({ level: 'debug', destination: logs });
  const metrics = createMetrics();
  const definition = { ...nimbusConfig, ...options.definition };
  const nimbus = createNimbus(definition, { config, env, logger, metrics, database, credentials: options.credentials });
  // Every response is checked against the document this app serves (issue 17).
  const app = observeApp(nimbus.createApp(), {
    documentKey: options.definition ? undefined : DEFAULT_DOCUMENT_KEY,
    fallbackDocument: defaultDocument,
  });
  return {
    app,
    nimbus,
    config,
    database,
    logger,
    logs,
    metrics,
    registry: nimbus.registry,
    payments: nimbus.service(paymentsPlugin),
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

/** The app of nimbus.config.ts over given dependencies (a database of a test's own making). */
export function createApp(deps: { config: Config; database: TestDatabase; logger?: Logger; metrics?: Metrics; env?: Record<string, string> }): App {
  const app = createNimbus(nimbusConfig, { env: testEnv(deps.env), ...deps }).createApp();
  return observeApp(app, { documentKey: DEFAULT_DOCUMENT_KEY, fallbackDocument: defaultDocument });
}

/** Apps built from nimbus.config.ts as it stands serve one document: it is read once per run. */
const DEFAULT_DOCUMENT_KEY = 'nimbus.config.ts';
let defaultDocumentText: Promise<string> | undefined;

/**
 * The document an app of nimbus.config.ts serves, for responses of apps that serve none
 * (`nimbus worker`, a definition without the docs plugin).
 */
export function defaultDocument(): Promise<string> {
  defaultDocumentText ??= (async () => {
    const database = await createTestDatabase();
    try {
      const env = testEnv();
      const nimbus = createNimbus(nimbusConfig, { config: loadConfig(env), env, database, logger: createLogger({ level: 'silent' }), metrics: createMetrics() });
      const response = await nimbus.createApp().handle(new Request(`http://localhost${SPEC_PATH}`));
      if (response.status !== 200) throw new Error(`GET ${SPEC_PATH} answered ${response.status}`);
      return await response.text();
    } finally {
      await database.close();
    }
  })();
  return defaultDocumentText;
}
