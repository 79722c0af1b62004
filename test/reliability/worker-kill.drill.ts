/**
 * Drill 2: a webhook worker killed mid-delivery while the receiver is slow. One API
 * replica and two `nimbus worker` processes with a short lease; the receiver takes up
 * to 1.5 s per answer, so both workers always hold deliveries in flight. A worker gets
 * SIGKILL while it holds leased deliveries; once the lease runs out the other worker
 * (or the restarted one) claims them again. No delivery is lost, each held one succeeds
 * after its lease, and the receiver sees every webhook-id answered 2xx at both endpoints.
 */
import { afterAll, expect, test } from 'bun:test';
import { createClient, Stats } from './support/client';
import { type Cluster, type NodeProcess, startCluster } from './support/cluster';
import { Checks, createEndpoints, runId, unexpectedAnswers } from './support/drill';
import { MODE, sized } from './support/env';
import { report } from './support/figures';
import { newJournal, runLoad } from './support/flows';
import { startDrillReceiver } from './support/receiver';
import { verify, waitForDeliveries, waitForSettled } from './support/verify';

const LEASE_MS = 4_000;
const SIZE = sized({
  ci: { flows: 45, maxMs: 12_000, concurrency: 4, kills: [4_000] },
  // The slow receiver takes about 19 deliveries a second at most (2 endpoints x 8 in flight / 0.85 s):
  // the long version's ~2,000 deliveries drain in about two minutes after the load.
  long: { flows: 250, maxMs: 150_000, concurrency: 4, kills: [20_000, 60_000, 100_000] },
});

let cluster: Cluster | undefined;
const receiver = startDrillReceiver();
afterAll(async () => {
  receiver.stop();
  await cluster?.stop();
});

type Held = { id: string; event_id: string; endpoint_id: string; locked_until: Date };

/** Deliveries the worker process holds right now (its lease is live), by its pid in the worker id. */
async function heldBy(c: Cluster, worker: NodeProcess): Promise<Held[]> {
  return (await c.database.sql`select id, event_id, endpoint_id, locked_until from webhook_deliveries
    where status = 'pending' and locked_until > now() and locked_by like ${`%-${worker.pid()}-%`}`) as unknown as Held[];
}

test('drill 2: a worker killed mid-delivery loses no delivery; its leases expire and are claimed again', async () => {
  const started = Date.now();
  cluster = await startCluster({
    label: 'worker',
    api: 1,
    workers: 2,
    env: { NIMBUS_WEBHOOK_LEASE_MS: String(LEASE_MS), NIMBUS_WEBHOOK_PER_ENDPOINT: '8', NIMBUS_WEBHOOK_CONCURRENCY: '8' },
  });
  const c = cluster;
  const endpoints = await createEndpoints(c, receiver, ['/a', '/b']);
  // A slow receiver: 200..1500 ms per answer, always below the attempt timeout (lease - 1 s).
  receiver.behaviour.delayMs = () => 200 + Math.random() * 1300;
  const stats = new Stats();
  const client = createClient({ urls: () => c.api.map((node) => node.url), token: () => c.token, stats });
  const journal = newJournal();

  const kills: Array<{ node: string; at: number; held: Held[]; restartMs: number }> = [];
  const loadStarted = Date.now();
  const chaos = (async () => {
    for (const [index, at] of SIZE.kills.entries()) {
      await Bun.sleep(Math.max(0, loadStarted + at - Date.now()));
      const victim = c.workers[index % c.workers.length]!;
      let held: Held[] = [];
      const deadline = Date.now() + 15_000;
      while (held.length === 0 && Date.now() < deadline) {
        held = await heldBy(c, victim);
        if (held.length === 0) await Bun.sleep(20);
      }
      const killedAt = Date.now();
      await victim.kill('SIGKILL');
      // Back after its own leases ran out: the other worker has to take them over.
      await Bun.sleep(LEASE_MS + 1_000);
      const restartAt = Date.now();
      await victim.start();
      kills.push({ node: victim.name, at: killedAt, held, restartMs: Date.now() - restartAt });
    }
  })();
  const load = await runLoad({ client, journal, runId: runId('worker'), flows: SIZE.flows, maxMs: SIZE.maxMs, concurrency: SIZE.concurrency });
  await chaos;

  const open = await waitForSettled(c.database.sql, 40_000);
  const pendingDeliveries = await waitForDeliveries(c.database.sql, sized({ ci: 120_000, long: 600_000 }));
  await Bun.sleep(500);
  const verdict = await verify(c.database.sql, journal, receiver, { endpoints });

  // Every delivery a killed worker held succeeded later, after its lease, at the hands of another claim.
  let heldTotal = 0;
  let reclaimedLate = 0;
  let maxReclaimMs = 0;
  let finishedBeforeKill = 0;
  const notRedelivered: string[] = [];
  for (const kill of kills) {
    for (const held of kill.held) {
      heldTotal += 1;
      const [row] = (await c.database.sql`select status, attempted_at, attempt from webhook_deliveries where id = ${held.id}`) as unknown as Array<{
        status: string;
        attempted_at: Date | null;
        attempt: number;
      }>;
      const path = endpoints.get(held.endpoint_id)!;
      const sighting = receiver.seen.get(path)?.get(held.event_id);
      if (row?.status !== 'succeeded' || !sighting || sighting.ok < 1) notRedelivered.push(`${held.id} (${row?.status})`);
      // Finished by the victim itself between the drill's look at its leases and the kill
      // (the receiver answers in up to 1.5 s): it was not held when the worker died.
      if (row?.attempted_at && row.attempted_at.getTime() <= kill.at) {
        finishedBeforeKill += 1;
        continue;
      }
      if (row?.attempted_at) {
        const after = row.attempted_at.getTime() - kill.at;
        maxReclaimMs = Math.max(maxReclaimMs, after);
        if (row.attempted_at.getTime() < held.locked_until.getTime() - 50) reclaimedLate += 1;
      }
    }
  }
  let answeredOk = 0;
  let missingOk = 0;
  for (const path of endpoints.values()) {
    for (const sighting of receiver.seen.get(path)?.values() ?? []) {
      if (sighting.ok >= 1) answeredOk += 1;
      else missingOk += 1;
    }
  }

  const checks = new Checks();
  checks.that(kills.length === SIZE.kills.length, `every planned kill happened (${kills.length}/${SIZE.kills.length})`);
  checks.that(kills.every((kill) => kill.held.length > 0), 'every kill hit a worker holding deliveries');
  checks.that(notRedelivered.length === 0, `every held delivery succeeded later (${notRedelivered.slice(0, 5).join(', ')})`);
  checks.that(reclaimedLate === 0, 'no held delivery was claimed again before its lease ran out');
  checks.that(missingOk === 0, 'the receiver answered 2xx to every webhook-id at every endpoint');
  checks.that(verdict.lost === 0 && verdict.duplicates === 0 && verdict.stuck === 0 && open === 0 && pendingDeliveries === 0, 'nothing lost, doubled or stuck');
  checks.that(verdict.overRefunds === 0 && verdict.mismatches === 0, 'the books agree');
  const unexpected = unexpectedAnswers(stats, []);
  checks.that(unexpected.length === 0, `only expected answers (${unexpected.join(', ')})`);
  checks.that(verdict.events > 0, 'the load made events');
  checks.that(c.nodes.every((node) => node.crashes.length === 0), 'no process crashed on its own');

  report({
    drill: 'worker-kill',
    title: 'webhook worker SIGKILLed mid-delivery, slow receiver (1 API replica, 2 workers)',
    seconds: (Date.now() - started) / 1000,
    requests: stats.requests,
    faults: kills.length,
    faultDetail: kills.map((kill) => `SIGKILL ${kill.node} holding ${kill.held.length} deliveries`).join('; '),
    retried: stats.retried,
    duplicates: verdict.duplicates,
    lost: verdict.lost,
    overRefunds: verdict.overRefunds,
    stuck: verdict.stuck,
    extra: [
      ['flows / payments / events', `${load.flows} / ${verdict.payments} / ${verdict.events}`],
      ['webhook requests received', `${receiver.total()} for ${answeredOk} (event, endpoint) pairs, receiver 200..1500 ms`],
      ['re-sends of the same webhook-id', verdict.webhookResends],
      ['held deliveries re-claimed', `${heldTotal - notRedelivered.length - finishedBeforeKill} of ${heldTotal} (${finishedBeforeKill} finished by the victim just before the kill), lease ${LEASE_MS / 1000} s, last one ${(maxReclaimMs / 1000).toFixed(1)} s after the kill`],
      ['mode', MODE],
    ],
    passed: checks.failed.length === 0,
    violations: [...checks.failed.map((f) => `FAILED: ${f}`), ...verdict.violations],
  });
  expect(checks.failed).toEqual([]);
}, sized({ ci: 240_000, long: 900_000 }));
