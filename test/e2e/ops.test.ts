import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { createPgliteDatabase, createPostgresDatabase, migrate } from '../../db';
import { createMetrics } from '../../runtime/metrics';
import { silentLogger } from '../../runtime/logger';
import { createApp, createTestApp, testConfig, type TestApp } from '../helpers/app';
import { TcpProxy } from '../helpers/tcp-proxy';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe('health', () => {
  test('live answers ok', async () => {
    const response = await t.request('GET', '/health/live');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  test('ready is 200 on a migrated database', async () => {
    const response = await t.request('GET', '/health/ready');
    expect(response.status).toBe(200);
  });

  test('ready is 503 while migrations are pending', async () => {
    const database = createPgliteDatabase({ pglite: new PGlite() });
    // Warm the fresh PGlite first: on a busy machine its first query can take longer than
    // readiness's ping timeout, and this test is about migrations, not about a slow start.
    await database.ping(30_000);
    const app = createApp({ config: testConfig(), database, logger: silentLogger, metrics: createMetrics() });
    const response = await app.handle(new Request('http://localhost/health/ready'));
    expect(response.status).toBe(503);
    expect(((await response.json()) as { checks: Record<string, string> }).checks.migrations).toMatch(/^[1-9][0-9]* pending$/);
    await database.close();
  });
});

describe('readiness answers within its budget', () => {
  test('a database that answers the ping but not the migrations query: 503 (migrations unknown) within the probe budget', async () => {
    const inner = createPgliteDatabase({ pglite: new PGlite() });
    await migrate(inner);
    // The database goes away right after the ping: the next query never answers.
    const stalled = new Proxy(inner.db, {
      get: (target, property) => (property === 'execute' ? () => new Promise(() => {}) : Reflect.get(target, property)),
    });
    const database = { ...inner, db: stalled };
    const app = createApp({ config: testConfig(), database, logger: silentLogger, metrics: createMetrics() });
    const started = Date.now();
    const response = await Promise.race([app.handle(new Request('http://localhost/health/ready')), Bun.sleep(10_000).then(() => undefined)]);
    expect(response?.status).toBe(503);
    expect(((await response!.json()) as { checks: Record<string, string> }).checks).toEqual({ database: 'ok', migrations: 'unknown' });
    expect(Date.now() - started).toBeLessThan(5_000);
    await inner.close();
  });
});

async function postgresReachable(): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: '127.0.0.1', port: 5432, socket: { data() {} } });
    socket.end();
    return true;
  } catch {
    return false;
  }
}

describe('readiness follows the database', async () => {
  const reachable = await postgresReachable();
  if (!reachable) console.warn('skipping the outage test: no PostgreSQL at 127.0.0.1:5432');

  test.skipIf(!reachable)(
    '503 while the database is unreachable, 200 again when it returns, without restart',
    async () => {
      const name = `nimbus_outage_${process.pid}_${Date.now()}`;
      const admin = postgres('postgres://postgres@127.0.0.1:5432/postgres', { max: 1, onnotice: () => {} });
      await admin.unsafe(`create database "${name}"`);
      const direct = createPostgresDatabase(`postgres://postgres@127.0.0.1:5432/${name}`, { maxConnections: 1 });
      await migrate(direct);
      await direct.close();

      const proxy = new TcpProxy(5432);
      proxy.start();
      const port = proxy.port;
      const database = createPostgresDatabase(`postgres://postgres@127.0.0.1:${port}/${name}`, { maxConnections: 2 });
      const app = createApp({ config: testConfig(), database, logger: silentLogger, metrics: createMetrics() });
      const ready = () => app.handle(new Request('http://localhost/health/ready'));
      try {
        expect((await ready()).status).toBe(200);
        proxy.stop();
        const down = await ready();
        expect(down.status).toBe(503);
        expect(((await down.json()) as { checks: Record<string, string> }).checks.database).toBe('unreachable');
        proxy.start(port);
        let status = 0;
        for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
          status = (await ready()).status;
          if (status !== 200) await Bun.sleep(200);
        }
        expect(status).toBe(200);
      } finally {
        proxy.stop();
        await database.close();
        await admin.unsafe(`drop database if exists "${name}" with (force)`);
        await admin.end();
      }
    },
    30_000,
  );
});

describe('metrics', () => {
  test('Prometheus text with the request histogram labelled by route template', async () => {
    await t.request('GET', '/health/live');
    await t.request('GET', '/v1/no/such/route/123');
    await Bun.sleep(10);
    const response = await t.request('GET', '/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    expect(text).toContain('http_request_duration_seconds_bucket{le="0.005",method="GET",route="/health/live",status="200"}');
    // Raw paths never become labels.
    expect(text).not.toContain('/v1/no/such/route/123');
    expect(text).toContain('route="unmatched"');
  });

  test('NIMBUS_METRICS_TOKEN protects /metrics', async () => {
    const guarded = await createTestApp({ env: { NIMBUS_METRICS_TOKEN: 'scrape-secret' }, database: t.database });
    expect((await guarded.request('GET', '/metrics')).status).toBe(401);
    expect((await guarded.request('GET', '/metrics', { token: 'wrong' })).status).toBe(401);
    expect((await guarded.request('GET', '/metrics', { token: 'scrape-secret' })).status).toBe(200);
  });
});

describe('OpenAPI document', () => {
  test('/docs serves an interactive reference', async () => {
    const response = await t.request('GET', '/docs');
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<html');
  });

  test('/docs/json is OpenAPI 3 titled NimbusPay with the package version and a bearer scheme', async () => {
    const response = await t.request('GET', '/docs/json');
    const document = (await response.json()) as Record<string, any>;
    expect(String(document.openapi)).toMatch(/^3\./);
    expect(document.info.title).toBe('NimbusPay');
    expect(document.info.version).toBe((await import('../../package.json')).version);
    expect(document.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  test('redocly lint (recommended rules) finds no error', async () => {
    const response = await t.request('GET', '/docs/json');
    const dir = mkdtempSync(join(tmpdir(), 'nimbus-openapi-'));
    const file = join(dir, 'openapi.json');
    writeFileSync(file, await response.text());
    const lint = Bun.spawnSync(
      ['node', 'node_modules/@redocly/cli/bin/cli.js', 'lint', file, '--extends', 'recommended', '--skip-rule', 'no-empty-servers', '--format', 'stylish'],
      { env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' } },
    );
    const output = lint.stdout.toString() + lint.stderr.toString();
    if (lint.exitCode !== 0) console.error(output);
    expect(lint.exitCode).toBe(0);
  }, 60_000);
});
