/**
 * Drill 1: a replica killed mid-traffic. Two API replicas (`serve --no-worker`) and two
 * workers on one PostgreSQL database; flows of creates, captures, partial refunds (two
 * at once on one payment) and cancels with idempotency keys go to both replicas. One
 * replica gets SIGKILL while it holds requests, and is started again; the client sends
 * every unanswered request again with its key. Afterwards: one object per key, one
 * authorization per payment at the processor, no refund above its payment, nothing left
 * open after reconciliation, every event at both endpoints (doubles only as re-sends).
 */
import { afterAll, expect, test } from 'bun:test';
import { createClient, Stats } from './support/client';
import { type Cluster, startCluster } from './support/cluster';
import { Checks, createEndpoints, fiveHundreds, latencyRows, runId, unexpectedAnswers } from './support/drill';
import { MODE, sized } from './support/env';
import { report } from './support/figures';
import { newJournal, runLoad } from './support/flows';
import { startDrillReceiver } from './support/receiver';
import { verify, waitForDeliveries, waitForSettled } from './support/verify';

const SIZE = sized({
  // Kills happen once this share of the flows has started (not at fixed times: a faster
  // server finished the long version's load before its first kill, which then hit nothing).
  ci: { flows: 220, maxMs: 15_000, concurrency: 6, kills: [0.4], downMs: 1_500, horizonMs: 12_000, settleMs: 40_000 },
  long: { flows: 1_500, maxMs: 240_000, concurrency: 8, kills: [0.3, 0.7], downMs: 5_000, horizonMs: 150_000, settleMs: 120_000 },
});
/** A killed replica's claims hold its keys until their lock runs out (DEFAULT_LOCK_MS in plugins/idempotency/store.ts). */
const IDEMPOTENCY_LOCK_MS = 120_000;

let cluster: Cluster | undefined;
const receiver = startDrillReceiver();
afterAll(async () => {
  receiver.stop();
  await cluster?.stop();
});

test('drill 1: a replica killed mid-traffic loses nothing and doubles nothing', async () => {
  const started = Date.now();
  cluster = await startCluster({ label: 'replica', api: 2, workers: 2 });
  const c = cluster;
  const endpoints = await createEndpoints(c, receiver, ['/a', '/b']);
  const stats = new Stats();
  const client = createClient({ urls: () => c.api.map((node) => node.url), token: () => c.token, stats, horizonMs: SIZE.horizonMs });
  const journal = newJournal();
  const id = runId('replica');

  const kills: Array<{ node: string; inFlight: number; readyMs: number }> = [];
  const loadStarted = Date.now();
  const chaos = (async () => {
    for (const [index, share] of SIZE.kills.entries()) {
      while (journal.flows < SIZE.flows * share && Date.now() - loadStarted < SIZE.maxMs) await Bun.sleep(20);
      const victim = c.api[(index + 1) % c.api.length]!;
      // Kill it while it holds requests (wait briefly for some, bounded).
      const deadline = Date.now() + 5_000;
      while ((stats.inFlight.get(victim.url) ?? 0) === 0 && Date.now() < deadline) await Bun.sleep(5);
      const inFlight = stats.inFlight.get(victim.url) ?? 0;
      await victim.kill('SIGKILL');
      await Bun.sleep(SIZE.downMs);
      const restartAt = Date.now();
      await victim.start();
      kills.push({ node: victim.name, inFlight, readyMs: Date.now() - restartAt });
    }
  })();
  const load = await runLoad({ client, journal, runId: id, flows: SIZE.flows, maxMs: SIZE.maxMs, concurrency: SIZE.concurrency });
  await chaos;

  const open = await waitForSettled(c.database.sql, SIZE.settleMs);
  const pendingDeliveries = await waitForDeliveries(c.database.sql, 180_000);
  await Bun.sleep(500); // a re-send still on its way shows up now
  const verdict = await verify(c.database.sql, journal, receiver, { endpoints });

  const checks = new Checks();
  checks.that(kills.length === SIZE.kills.length, `every planned kill happened (${kills.length}/${SIZE.kills.length})`);
  checks.that(kills.every((kill) => kill.inFlight > 0), 'every kill hit a replica holding requests');
  checks.that(verdict.duplicates === 0, 'no duplicates');
  checks.that(verdict.lost === 0, 'nothing lost');
  checks.that(verdict.overRefunds === 0, 'no over-refunds');
  checks.that(verdict.stuck === 0 && open === 0 && pendingDeliveries === 0, 'nothing stuck after reconciliation');
  checks.that(verdict.mismatches === 0, 'NimbusPay and the processor agree');
  checks.that(stats.badErrors.length === 0, `no 500 and no 5xx without the error envelope (${stats.badErrors[0] ?? ''})`);
  checks.that(stats.hangs === 0, 'no request held past the client timeout');
  checks.that(c.nodes.every((node) => node.crashes.length === 0), `no process crashed on its own (${c.nodes.flatMap((n) => n.crashes.map(() => n.name)).join(', ')})`);
  const unexpected = unexpectedAnswers(stats, []);
  checks.that(unexpected.length === 0, `only expected answers (${unexpected.join(', ')})`);
  // Keys a killed replica had claimed answer 409 idempotency_key_in_use until the claim's lock runs out.
  if (SIZE.horizonMs > IDEMPOTENCY_LOCK_MS) checks.that(verdict.unresolved === 0, 'every request got a final answer');
  else checks.that(verdict.unresolved <= kills.reduce((n, kill) => n + kill.inFlight, 0) * 2, 'only keys held by a killed replica stay unresolved');
  checks.that(journal.records.length > 0 && verdict.payments >= load.flows * 0.9, 'the load ran');

  report({
    drill: 'replica-kill',
    title: 'API replica SIGKILLed mid-traffic and restarted (2 API replicas, 2 workers)',
    seconds: (Date.now() - started) / 1000,
    requests: stats.requests,
    faults: kills.length,
    faultDetail: kills.map((kill) => `SIGKILL ${kill.node} holding ${kill.inFlight} requests, ready again in ${(kill.readyMs / 1000).toFixed(1)} s`).join('; '),
    retried: stats.retried,
    duplicates: verdict.duplicates,
    lost: verdict.lost,
    overRefunds: verdict.overRefunds,
    stuck: verdict.stuck,
    extra: [
      ['flows / payments / refunds', `${load.flows} / ${verdict.payments} / ${verdict.refunds}`],
      ['processor authorizations', `${verdict.authorizations} (one per payment that reached it)`],
      ['events / webhook requests', `${verdict.events} / ${receiver.total()} (${verdict.webhookResends} re-sends of the same webhook-id)`],
      ['keys unresolved at horizon / still claimed', `${verdict.unresolved} / ${verdict.claimedKeys} (horizon ${SIZE.horizonMs / 1000} s, claim lock ${IDEMPOTENCY_LOCK_MS / 1000} s)`],
      ['answers 5xx / network', fiveHundreds(stats)],
      ['answers', stats.statusTable()],
      ['NimbusPay vs processor mismatches', verdict.mismatches],
      ...latencyRows(stats),
      ['mode', MODE],
    ],
    passed: checks.failed.length === 0,
    violations: [...checks.failed.map((f) => `FAILED: ${f}`), ...verdict.violations],
  });
  expect(checks.failed).toEqual([]);
}, sized({ ci: 240_000, long: 900_000 }));
