import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import YAML from 'yaml';
import { DEPLOY, PROMTOOL, ROOT, announceMissing } from './helpers';

/**
 * A real scrape: start `nimbus serve` on the embedded database, make a few requests,
 * read /metrics the way the ServiceMonitor does (bearer token), and check it with
 * `promtool check metrics`. Also proves that every metric the alert rules use exists.
 */

const CLI = resolve(ROOT, 'main.ts');
const HAS_CLI = existsSync(CLI);
const TOKEN = 'metrics-scrape-test-token';
if (!HAS_CLI) console.warn('\n[test/deploy] SKIPPING the /metrics scrape: main.ts does not exist yet.\n');
announceMissing('promtool', PROMTOOL, '`promtool check metrics` on a real /metrics scrape');

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

let child: ReturnType<typeof Bun.spawn> | undefined;
let dataDir = '';
let base = '';
let scrape = '';
let output = '';

async function waitForReady(deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    if (child?.exitCode !== null && child?.exitCode !== undefined) {
      throw new Error(`nimbus serve exited with ${child.exitCode}:\n${output}`);
    }
    try {
      const response = await fetch(`${base}/health/ready`);
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await Bun.sleep(100);
  }
  throw new Error(`nimbus serve did not become ready:\n${output}`);
}

describe.skipIf(!HAS_CLI)('/metrics of a running server', () => {
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'nimbus-metrics-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env: Record<string, string | undefined> = {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      NIMBUS_DATA_DIR: dataDir,
      NIMBUS_ENV: 'development',
      LOG_LEVEL: 'silent',
      NIMBUS_METRICS_TOKEN: TOKEN,
    };
    // The embedded database in a fresh directory, whatever the caller's shell has set.
    delete env.DATABASE_URL;
    child = Bun.spawn([process.execPath, CLI, 'serve'], { cwd: ROOT, env, stdout: 'pipe', stderr: 'pipe' });
    for (const stream of [child.stdout, child.stderr] as ReadableStream<Uint8Array>[]) {
      (async () => {
        for await (const chunk of stream) output += new TextDecoder().decode(chunk);
      })();
    }
    await waitForReady(Date.now() + 80_000);

    // Some traffic, so that labelled series exist: ok, unauthenticated, not found.
    await fetch(`${base}/health/live`);
    await fetch(`${base}/v1/payments`);
    await fetch(`${base}/v1/payments/pay_doesnotexist`);
    await fetch(`${base}/no/such/route`);
    const response = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    scrape = await response.text();
  }, 90_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      const exited = await Promise.race([child.exited, Bun.sleep(12_000).then(() => 'timeout')]);
      if (exited === 'timeout') child.kill('SIGKILL');
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 15_000);

  test('is refused without the metrics token', async () => {
    const response = await fetch(`${base}/metrics`);
    expect(response.status).not.toBe(200);
    expect(response.status).toBeLessThan(500);
  });

  test('exports the metrics the API contract and the alert rules rely on', () => {
    const declared = new Set([...scrape.matchAll(/^# TYPE (\S+) (\w+)$/gm)].map((m) => m[1]));
    for (const name of [
      'http_request_duration_seconds',
      'nimbus_payments_total',
      'nimbus_refunds_total',
      'nimbus_processor_request_duration_seconds',
      'nimbus_webhook_deliveries_total',
      'nimbus_webhook_queue_depth',
      'nimbus_webhook_oldest_pending_age_seconds',
      'nimbus_database_up',
    ]) {
      expect({ name, declared: declared.has(name) }).toEqual({ name, declared: true });
    }
    // Every application metric an alert expression names is really exported (histogram
    // series by their base name); kube-state-metrics and `up` come from elsewhere.
    const rules = YAML.parse(readFileSync(resolve(DEPLOY, 'prometheus/alerts.yaml'), 'utf8'));
    const exprs = rules.spec.groups.flatMap((g: any) => g.rules.map((r: any) => r.expr)).join('\n');
    for (const [used] of exprs.matchAll(/\b(?:nimbus|http)_[a-z_]+/g)) {
      const name = used.replace(/_(bucket|count|sum)$/, '');
      expect({ used, declared: declared.has(name) }).toEqual({ used, declared: true });
    }
    expect(scrape).toMatch(/^nimbus_database_up 1$/m);
    expect(scrape).toMatch(/^http_request_duration_seconds_count\{[^}]*route="\/health\/live"[^}]*\} \d+/m);
  });

  test.skipIf(!PROMTOOL)('passes `promtool check metrics` without a single complaint', async () => {
    const promtool = Bun.spawn([PROMTOOL!, 'check', 'metrics'], { stdin: new Blob([scrape]), stdout: 'pipe', stderr: 'pipe' });
    const [stdout, stderr, status] = await Promise.all([
      new Response(promtool.stdout).text(),
      new Response(promtool.stderr).text(),
      promtool.exited,
    ]);
    expect(`${stdout}${stderr}`.trim()).toBe('');
    expect(status).toBe(0);
  });
});
