/**
 * Drill 3: the database goes away under load.
 *
 * 3a. Every server connection of the drill's database is terminated (pg_terminate_backend,
 *     this database's backends only) and, for a few seconds, new connections are refused
 *     (the processes reach PostgreSQL through a loopback proxy that stops accepting).
 * 3b. PostgreSQL itself is restarted (pg_ctlcluster stop, a few seconds down, start). It
 *     stops every database of the server, so it runs only with NIMBUS_DRILL_PG_RESTART=1
 *     (.ci/run under CI=true, where nothing else runs, and `npm run drill`).
 *
 * Both: readiness turns 503 and back by itself; requests meanwhile answer 503
 * `database_unavailable` with the error envelope and Retry-After (never a 500, never a
 * hang past the client's timeout); keyed retries finish the flows; afterwards no partial
 * write (every object has its events, every key one object, the books agree) and nothing
 * that reconciliation cannot finish.
 */
import { readdirSync } from 'node:fs';
import { afterAll, expect, test } from 'bun:test';
import { createClient, percentile, Stats } from './support/client';
import { type Cluster, retrying, startCluster, terminateBackends, watchReadiness } from './support/cluster';
import { DbProxy } from './support/db-proxy';
import { Checks, createEndpoints, fiveHundreds, runId, unexpectedAnswers } from './support/drill';
import { ADMIN_URL, MODE, PG_RESTART, sized } from './support/env';
import { report } from './support/figures';
import { newJournal, runLoad } from './support/flows';
import { startDrillReceiver } from './support/receiver';
import { verify, waitForDeliveries, waitForSettled } from './support/verify';

const SIZE = sized({
  ci: {
    flows: 200,
    maxMs: 14_000,
    concurrency: 6,
    // Outages begin once this share of the flows has started (not at fixed times: the
    // faster server had finished drill 3b's load before its restart, which then met no
    // request at all).
    outages: [
      { share: 0.25, holdMs: 0 },
      { share: 0.55, holdMs: 3_000 },
    ],
    // A retry must be able to outlive the outage (a PostgreSQL restart is down for up to
    // ~10 s here) plus the moment the server needs to settle the keys it cut off.
    horizonMs: 30_000,
  },
  long: {
    flows: 1_000,
    maxMs: 150_000,
    concurrency: 8,
    outages: [
      { share: 0.15, holdMs: 5_000 },
      { share: 0.45, holdMs: 15_000 },
      { share: 0.8, holdMs: 0 },
    ],
    // Longer than the idempotency claim's lock (120 s): every key must end with an answer.
    horizonMs: 150_000,
  },
});
/** The client's own limit: an answer slower than this is a hang. */
const CLIENT_TIMEOUT_MS = 15_000;
/** How soon readiness must be 200 again once the database is back. */
const RECOVERY_MS = 15_000;

const clusters: Cluster[] = [];
const receivers = [startDrillReceiver(), startDrillReceiver()];
let proxy: DbProxy | undefined;
afterAll(async () => {
  for (const receiver of receivers) receiver.stop();
  for (const cluster of clusters) await cluster.stop();
  proxy?.stop();
});

type Outage = { kind: string; startedAt: number; endedAt: number; terminated: number };

interface OutageDrill {
  drill: string;
  title: string;
  cluster: Cluster;
  receiver: (typeof receivers)[number];
  /** Each outage begins once `share` of the flows has started. */
  schedule: Array<{ share: number; holdMs: number }>;
  /** Takes the database away for `holdMs` (0: only the termination), then brings it back. */
  outage(holdMs: number): Promise<Omit<Outage, 'startedAt' | 'endedAt'>>;
}

async function runOutageDrill(setup: OutageDrill): Promise<void> {
  const started = Date.now();
  const c = setup.cluster;
  const endpoints = await createEndpoints(c, setup.receiver, ['/a', '/b']);
  const stats = new Stats();
  const client = createClient({ urls: () => c.api.map((node) => node.url), token: () => c.token, stats, timeoutMs: CLIENT_TIMEOUT_MS, horizonMs: SIZE.horizonMs });
  const journal = newJournal();
  const watchers = c.nodes.map((node) => ({ node, watch: watchReadiness(node, 100) }));

  const outages: Outage[] = [];
  const loadStarted = Date.now();
  const chaos = (async () => {
    for (const planned of setup.schedule) {
      while (journal.flows < SIZE.flows * planned.share && Date.now() - loadStarted < SIZE.maxMs) await Bun.sleep(20);
      const startedAt = Date.now();
      const done = await setup.outage(planned.holdMs);
      outages.push({ ...done, startedAt, endedAt: Date.now() });
      // A process that died is started again, as its supervisor (Kubernetes) would: the
      // crash fails the drill, and the other checks still run on what it left behind.
      await Bun.sleep(2_000);
      for (const node of c.nodes) if (!node.alive()) await node.start().catch(() => undefined);
    }
  })();
  const load = await runLoad({ client, journal, runId: runId(setup.drill), flows: SIZE.flows, maxMs: SIZE.maxMs, concurrency: SIZE.concurrency });
  await chaos;
  // Give readiness its chance to come back by itself, then stop watching.
  const lastEnd = Math.max(...outages.map((outage) => outage.endedAt));
  while (Date.now() < lastEnd + RECOVERY_MS && !watchers.every(({ watch }) => watch.transitions.at(-1)?.status === 200)) await Bun.sleep(100);
  for (const { watch } of watchers) await watch.stop();

  const loadDone = Date.now();
  const open = await retrying(() => waitForSettled(c.database.sql, 60_000));
  const settled = Date.now();
  const pendingDeliveries = await retrying(() => waitForDeliveries(c.database.sql, 180_000));
  const delivered = Date.now();
  await Bun.sleep(500);
  const verdict = await retrying(() => verify(c.database.sql, journal, setup.receiver, { endpoints }));

  const checks = new Checks();
  const readiness: string[] = [];
  for (const { node, watch } of watchers) {
    for (const outage of outages.filter((o) => o.kind !== 'terminate only' && o.kind !== 'restart (no hold)')) {
      const during = (t: { at: number }) => t.at >= outage.startedAt && t.at <= outage.endedAt + 2_000;
      const down = watch.transitions.find((t) => during(t) && t.status !== 200);
      const said503 = watch.transitions.some((t) => during(t) && t.status === 503);
      // Back to 200 after it went down. A restarted server may be back, and the nodes with
      // it, before pg_ctlcluster and pg_isready tell the drill (the outage's end): that counts as 0 s.
      const up = watch.transitions.find((t) => t.at > (down?.at ?? outage.startedAt) && t.status === 200);
      const recoveredMs = up ? Math.max(0, up.at - outage.endedAt) : undefined;
      readiness.push(`${node.name}: ${down ? `${down.status || 'no answer'} after ${((down.at - outage.startedAt) / 1000).toFixed(1)} s` : 'never 503'}, 200 ${recoveredMs !== undefined ? `${(recoveredMs / 1000).toFixed(1)} s after the return` : 'never again'} (slowest probe ${(watch.slowestMs() / 1000).toFixed(1)} s, ${watch.noAnswer()} unanswered in 3 s)`);
      if (node.role !== 'worker') checks.that(said503, `${node.name} readiness turned 503 during the outage`);
      checks.that(recoveredMs !== undefined && recoveredMs <= RECOVERY_MS, `${node.name} readiness back to 200 within ${RECOVERY_MS / 1000} s by itself`);
    }
    checks.that(node.crashes.length === 0, `${node.name} did not crash (${node.crashes[0]?.output.split('\n').filter((l) => /Error/.test(l)).slice(-1)[0] ?? ''})`);
  }
  const unavailable = stats.of('503 database_unavailable');
  checks.that(outages.length === setup.schedule.length, 'every planned outage happened');
  checks.that(outages.every((outage) => outage.terminated > 0), 'every outage terminated live server connections');
  checks.that(unavailable > 0, 'requests during the outage answered 503 database_unavailable');
  checks.that(stats.badErrors.length === 0, `no 500, every 5xx in the error envelope, every database_unavailable with Retry-After (${stats.badErrors[0] ?? ''})`);
  checks.that(stats.hangs === 0, `no answer slower than ${CLIENT_TIMEOUT_MS / 1000} s`);
  const unexpected = unexpectedAnswers(stats, ['503 database_unavailable']);
  checks.that(unexpected.length === 0, `only expected answers (${unexpected.join(', ')})`);
  checks.that(verdict.unresolved === 0, 'every request finished with its key');
  checks.that(verdict.duplicates === 0 && verdict.lost === 0, 'no partial writes: nothing lost, nothing doubled');
  checks.that(verdict.overRefunds === 0 && verdict.mismatches === 0, 'the books agree');
  checks.that(verdict.stuck === 0 && open === 0 && pendingDeliveries === 0, 'reconciliation finished everything');
  checks.that(verdict.payments > 0, 'the load ran');
  const errorLogs = c.nodes.reduce((n, node) => n + node.errorLines().length, 0);
  for (const node of c.nodes) for (const crash of node.crashes) console.log(`${node.name} died (exit ${crash.code}); its last output:\n${crash.output}`);

  report({
    drill: setup.drill,
    title: setup.title,
    seconds: (Date.now() - started) / 1000,
    requests: stats.requests,
    faults: outages.length,
    faultDetail: outages
      .map((o) => `${o.kind}: ${o.terminated} backends terminated, ${((o.endedAt - o.startedAt) / 1000).toFixed(1)} s without database`)
      .join('; '),
    retried: stats.retried,
    duplicates: verdict.duplicates,
    lost: verdict.lost,
    overRefunds: verdict.overRefunds,
    stuck: verdict.stuck,
    extra: [
      ['flows / payments / refunds / events', `${load.flows} / ${verdict.payments} / ${verdict.refunds} / ${verdict.events}`],
      ['503 database_unavailable', `${unavailable} answers, slowest ${((stats.slowest.get('503 database_unavailable') ?? 0) / 1000).toFixed(2)} s`],
      ['answers 5xx / network', fiveHundreds(stats)],
      ['500 or bad 5xx', stats.badErrors.length],
      ['keys unresolved at horizon / still claimed at the end', `${verdict.unresolved} / ${verdict.claimedKeys} (horizon ${SIZE.horizonMs / 1000} s; 409 idempotency_key_in_use answers: ${stats.of('409 idempotency_key_in_use')})`],
      ['hangs (> 15 s)', stats.hangs],
      ['readiness', readiness.join('; ') || 'n/a'],
      ['error log lines (all processes)', errorLogs],
      ['processes crashed (restarted like a supervisor would)', c.nodes.filter((n) => n.crashes.length > 0).map((n) => `${n.name} x${n.crashes.length}`).join(', ') || 'none'],
      ['latency p99', `${percentile(stats.latencies, 99).toFixed(0)} ms`],
      ['phases', `load and retries ${((loadDone - loadStarted) / 1000).toFixed(0)} s, reconciliation ${((settled - loadDone) / 1000).toFixed(0)} s, webhooks ${((delivered - settled) / 1000).toFixed(0)} s`],
      ['mode', MODE],
    ],
    passed: checks.failed.length === 0,
    violations: [...checks.failed.map((f) => `FAILED: ${f}`), ...verdict.violations],
  });
  expect(checks.failed).toEqual([]);
}

test('drill 3a: every server connection terminated, new ones refused for a while', async () => {
  const server = new URL(ADMIN_URL);
  proxy = new DbProxy(Number(server.port || 5432));
  proxy.start(0);
  const through = proxy;
  const cluster = await startCluster({
    label: 'dbterm',
    api: 2,
    workers: 1,
    databaseUrlForNodes: (database) => {
      const url = new URL(database.url);
      url.host = `127.0.0.1:${through.port}`;
      return url.toString();
    },
  });
  clusters.push(cluster);
  await runOutageDrill({
    drill: 'database-terminate',
    title: 'pg_terminate_backend of every server connection, then no new connections for a while',
    cluster,
    schedule: SIZE.outages,
    receiver: receivers[0]!,
    async outage(holdMs) {
      if (holdMs > 0) through.refuse();
      const terminated = await terminateBackends(cluster.database);
      await Bun.sleep(holdMs);
      if (holdMs > 0) through.start();
      return { kind: holdMs > 0 ? 'terminate + refuse' : 'terminate only', terminated };
    },
  });
}, sized({ ci: 240_000, long: 900_000 }));

/** pg_ctlcluster on the local cluster, awaited without blocking the drill's event loop (load and probes go on). */
async function pgctl(args: string[], accepted = [0]): Promise<void> {
  const version = readdirSync('/etc/postgresql')[0]!;
  const child = Bun.spawn(['pg_ctlcluster', '--skip-systemctl-redirect', ...args.slice(0, -1), version, 'main', args.at(-1)!], { stdout: 'pipe', stderr: 'pipe' });
  const code = await child.exited;
  if (!accepted.includes(code)) throw new Error(`pg_ctlcluster ${args.join(' ')} exited ${code}: ${await new Response(child.stderr).text()}`);
}

async function serverBack(timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const port = new URL(ADMIN_URL).port || '5432';
  while (Date.now() < deadline) {
    if ((await Bun.spawn(['pg_isready', '-q', '-h', '127.0.0.1', '-p', port]).exited) === 0) return;
    await Bun.sleep(200);
  }
  throw new Error('PostgreSQL did not come back');
}

if (!PG_RESTART) console.warn('skipping drill 3b (PostgreSQL restart): it stops the whole server; set NIMBUS_DRILL_PG_RESTART=1 where nothing else uses it');

test.skipIf(!PG_RESTART)('drill 3b: PostgreSQL restarted under load', async () => {
  const cluster = await startCluster({ label: 'pgrestart', api: 2, workers: 1 });
  clusters.push(cluster);
  await runOutageDrill({
    drill: 'database-restart',
    title: 'PostgreSQL restarted (pg_ctlcluster stop -m fast, held down, start)',
    cluster,
    schedule: sized({ ci: [{ share: 0.4, holdMs: 2_000 }], long: [{ share: 0.2, holdMs: 5_000 }, { share: 0.6, holdMs: 0 }] }),
    receiver: receivers[1]!,
    async outage(holdMs) {
      const before = await countBackends(cluster);
      try {
        await pgctl(['-m', 'fast', 'stop']);
        await Bun.sleep(Math.max(holdMs, 1_000));
      } finally {
        // Whatever happened, the server is started again.
        await pgctl(['start'], [0, 2]); // 2: it was running already (the stop failed)
        await serverBack();
      }
      return { kind: holdMs > 0 ? 'restart' : 'restart (no hold)', terminated: before };
    },
  });
}, sized({ ci: 240_000, long: 900_000 }));

async function countBackends(cluster: Cluster): Promise<number> {
  const [row] = await cluster.database.sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`;
  return (row as { n: number }).n;
}

