/**
 * Drill 5: soak. One `nimbus serve` (API and worker in one process, webhooks to a loopback
 * receiver) on the real PostgreSQL. First a short closed-loop peak is measured, then the
 * load is held at half of it, open loop, for 60 s (CI) or 10 minutes (`npm run drill`).
 * RSS, the database connections it holds, event-loop lag (prom-client's
 * nodejs_eventloop_lag_* from /metrics) and request latency are sampled throughout and
 * the first window is compared with the last: they stay flat, p99 does not drift, and
 * the books are still right at the end.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, test } from 'bun:test';
import { createClient, type DrillClient, percentile, Stats } from './support/client';
import { type Cluster, metricSum, openConnections, scrape, startCluster } from './support/cluster';
import { Checks, createEndpoints, fiveHundreds, runId, unexpectedAnswers } from './support/drill';
import { MODE, ROOT, sized } from './support/env';
import { report, table } from './support/figures';
import { CARDS, newJournal, type Journal } from './support/flows';
import { startDrillReceiver } from './support/receiver';
import { verify, waitForDeliveries, waitForSettled } from './support/verify';

const SIZE = sized({
  ci: { peakMs: 5_000, soakMs: 60_000, sampleMs: 5_000, windowMs: 15_000, peakConcurrency: 8 },
  long: { peakMs: 20_000, soakMs: 600_000, sampleMs: 10_000, windowMs: 60_000, peakConcurrency: 8 },
});
/** Open-loop requests never pile up past this: beyond it a due request is counted as shed. */
const MAX_IN_FLIGHT = 32;

let cluster: Cluster | undefined;
const receiver = startDrillReceiver();
afterAll(async () => {
  receiver.stop();
  await cluster?.stop();
});

/** One request of the soak mix: half creates, four in ten reads, one in ten refunds. */
function mixer(client: DrillClient, journal: Journal, run: string) {
  let n = 0;
  const recent: string[] = [];
  return async function one(): Promise<void> {
    const i = n++;
    const pick = i % 10;
    if (pick < 5 || recent.length === 0) {
      const key = `${run}-${i}-create`;
      const answer = await client.send('POST', '/v1/payments', {
        amount: 1000 + (i % 5000),
        currency: 'EUR',
        payment_method: { type: 'card', card: { number: i % 2 ? CARDS.visa : CARDS.mastercard, exp_month: 12, exp_year: new Date().getUTCFullYear() + 4, cvc: '123' } },
        metadata: { drill_key: key, drill_flow: 'soak' },
      }, key);
      journal.records.push({ key, op: 'create', flow: 'refunds', paymentId: answer.body?.id, answer });
      if (answer.status === 201 && answer.body?.status === 'succeeded') {
        recent.push(answer.body.id);
        if (recent.length > 200) recent.shift();
      }
    } else if (pick < 9) {
      await client.send('GET', `/v1/payments/${recent[i % recent.length]}`);
    } else {
      const paymentId = recent.shift()!;
      const key = `${run}-${i}-refund`;
      const answer = await client.send('POST', '/v1/refunds', { payment: paymentId, amount: 300, metadata: { drill_key: key } }, key);
      journal.records.push({ key, op: 'refund', flow: 'refunds', paymentId, answer, amount: 300 });
    }
  };
}

async function pendingDeliveries(c: Cluster): Promise<number> {
  const [row] = await c.database.sql`select count(*)::int as n from webhook_deliveries where status = 'pending'`;
  return (row as { n: number }).n;
}

type Sample = {
  at: number;
  /** Webhook deliveries waiting (pending) in the queue. */
  backlog: number;
  rssMb: number;
  connections: number;
  lagP99Ms: number;
  lagMaxMs: number;
  heapMb: number;
  /** process_cpu_seconds_total of the server and how many answers the client had so far: CPU per request. */
  cpuSeconds: number;
  answered: number;
};

/** What bench/results/*.json measured for create-payment, if a benchmark ran here. */
function benchPeak(): string {
  try {
    const dir = join(ROOT, 'bench', 'results');
    const latest = readdirSync(dir).filter((f) => f.endsWith('.json')).sort().at(-1);
    if (!latest) return 'none';
    const result = JSON.parse(readFileSync(join(dir, latest), 'utf8')) as { create?: Array<{ name: string; perSecond: number }> };
    const best = [...(result.create ?? [])].sort((a, b) => b.perSecond - a.perSecond)[0];
    return best ? `${best.perSecond.toFixed(1)}/s (${best.name}, ${latest})` : 'none';
  } catch {
    return 'none';
  }
}

test('drill 5: soak at half the measured peak: RSS, connections and event-loop lag stay flat, p99 does not drift', async () => {
  const started = Date.now();
  cluster = await startCluster({ label: 'soak', api: 1, workers: 0, inProcessWorker: true });
  const c = cluster;
  const node = c.api[0]!;
  const endpoints = await createEndpoints(c, receiver, ['/a']);
  const journal = newJournal();
  const run = runId('soak');

  // 1. The peak: a closed loop of `peakConcurrency`, also the warm-up.
  const peakStats = new Stats();
  const peakClient = createClient({ urls: () => [node.url], token: () => c.token, stats: peakStats });
  const peakOne = mixer(peakClient, journal, `${run}-peak`);
  const peakStarted = Date.now();
  await Promise.all(
    Array.from({ length: SIZE.peakConcurrency }, async () => {
      while (Date.now() - peakStarted < SIZE.peakMs) await peakOne();
    }),
  );
  const apiPerSecond = peakStats.requests / ((Date.now() - peakStarted) / 1000);
  // The peak the whole pipeline sustains: the same requests, counted until their webhooks
  // were delivered too (the in-process worker shares the server's CPU with the API). Half
  // of the API's burst alone would grow the webhook queue without end.
  const backlogAfterPeak = await pendingDeliveries(c);
  await waitForDeliveries(c.database.sql, 180_000);
  const peakPerSecond = peakStats.requests / ((Date.now() - peakStarted) / 1000);
  const rate = Math.max(1, peakPerSecond / 2);

  // 2. The soak: open loop at half the peak, sampled all along.
  const stats = new Stats();
  stats.keepTimed = true;
  const client = createClient({ urls: () => [node.url], token: () => c.token, stats });
  const one = mixer(client, journal, `${run}-soak`);
  const samples: Sample[] = [];
  const sample = async () => {
    const metrics = await scrape(node);
    samples.push({
      at: Date.now(),
      rssMb: node.rssMb(),
      connections: await openConnections(c.database).catch(() => -1),
      backlog: await pendingDeliveries(c),
      lagP99Ms: metricSum(metrics, 'nodejs_eventloop_lag_p99_seconds') * 1000,
      lagMaxMs: metricSum(metrics, 'nodejs_eventloop_lag_max_seconds') * 1000,
      heapMb: metricSum(metrics, 'nodejs_heap_size_used_bytes') / 1048576,
      cpuSeconds: metricSum(metrics, 'process_cpu_seconds_total'),
      answered: stats.timed.length,
    });
  };
  const soakStarted = Date.now();
  await sample(); // also resets the lag histogram: the soak's samples start clean
  samples.shift();
  const baseline = { at: soakStarted, cpu: metricSum(await scrape(node), 'process_cpu_seconds_total'), answered: 0 };
  let sent = 0;
  let shed = 0;
  let inFlight = 0;
  const pending = new Set<Promise<void>>();
  let nextSample = soakStarted + SIZE.sampleMs;
  while (Date.now() - soakStarted < SIZE.soakMs) {
    const owed = Math.floor(((Date.now() - soakStarted) / 1000) * rate) - sent - shed;
    for (let k = 0; k < owed; k++) {
      if (inFlight >= MAX_IN_FLIGHT) {
        shed += 1;
        continue;
      }
      sent += 1;
      inFlight += 1;
      const p = one().finally(() => {
        inFlight -= 1;
        pending.delete(p);
      });
      pending.add(p);
    }
    if (Date.now() >= nextSample) {
      nextSample += SIZE.sampleMs;
      await sample();
    }
    await Bun.sleep(20);
  }
  await Promise.all(pending);
  const soakSeconds = (Date.now() - soakStarted) / 1000;

  const open = await waitForSettled(c.database.sql, 60_000);
  const pendingAtEnd = await waitForDeliveries(c.database.sql, 300_000);
  const verdict = await verify(c.database.sql, journal, receiver, { endpoints });

  // Per sampling interval: p99 of the answers in it and the server's CPU per answer (the
  // latter does not care how busy the rest of a shared machine is).
  const intervals = samples.map((s, i) => {
    const previous = i === 0 ? baseline : { at: samples[i - 1]!.at, cpu: samples[i - 1]!.cpuSeconds, answered: samples[i - 1]!.answered };
    const answers = stats.timed.filter((t) => t.at > previous.at && t.at <= s.at).map((t) => t.ms);
    const cpuMsPerAnswer = answers.length ? ((s.cpuSeconds - previous.cpu) * 1000) / answers.length : 0;
    return { ...s, p99: percentile(answers, 99), cpuMsPerAnswer };
  });
  console.log(
    `\nsoak samples (every ${SIZE.sampleMs / 1000} s):\n${intervals
      .map((x) => `  t=${((x.at - soakStarted) / 1000).toFixed(0).padStart(4)} s  rss ${x.rssMb.toFixed(0)} MiB  conns ${x.connections}  webhook backlog ${x.backlog}  lag p99 ${x.lagP99Ms.toFixed(1)} ms  p99 ${x.p99.toFixed(0)} ms  cpu ${x.cpuMsPerAnswer.toFixed(1)} ms/answer`)
      .join('\n')}`,
  );

  // First window vs last window.
  const firstEnd = soakStarted + SIZE.windowMs;
  const lastStart = soakStarted + soakSeconds * 1000 - SIZE.windowMs;
  // A window is its first (last) windowMs / sampleMs samples, counted rather than timed.
  const perWindow = Math.max(1, Math.round(SIZE.windowMs / SIZE.sampleMs));
  const inFirst = samples.slice(0, perWindow);
  const inLast = samples.slice(-perWindow);
  const firstIntervals = intervals.slice(0, perWindow);
  const lastIntervals = intervals.slice(-perWindow);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const max = (xs: number[]) => (xs.length ? Math.max(...xs) : 0);
  // The median of a window's samples: one stall of a shared machine is not a trend.
  const median = (xs: number[]) => {
    if (xs.length === 0) return 0;
    const sorted = [...xs].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  };
  const p99Of = (from: number, to: number) => percentile(stats.timed.filter((t) => t.at > from && t.at <= to).map((t) => t.ms), 99);
  const windows = {
    rss: [mean(inFirst.map((s) => s.rssMb)), mean(inLast.map((s) => s.rssMb))],
    heap: [mean(inFirst.map((s) => s.heapMb)), mean(inLast.map((s) => s.heapMb))],
    connections: [max(inFirst.map((s) => s.connections)), max(inLast.map((s) => s.connections))],
    backlog: [median(inFirst.map((s) => s.backlog)), median(inLast.map((s) => s.backlog))],
    lagP99: [median(inFirst.map((s) => s.lagP99Ms)), median(inLast.map((s) => s.lagP99Ms))],
    latencyP99: [p99Of(soakStarted, firstEnd), p99Of(lastStart, Date.now())],
    // The drift check compares the windows' median interval p99, so one stall of a shared machine is not a trend.
    intervalP99: [median(firstIntervals.map((x) => x.p99)), median(lastIntervals.map((x) => x.p99))],
    cpuPerAnswer: [median(firstIntervals.map((x) => x.cpuMsPerAnswer)), median(lastIntervals.map((x) => x.cpuMsPerAnswer))],
  };
  const label = `${SIZE.windowMs / 1000} s`;
  const drift: Array<[string, string]> = [
    ['RSS MiB', `${windows.rss[0]!.toFixed(0)} -> ${windows.rss[1]!.toFixed(0)}`],
    ['JS heap used MiB', `${windows.heap[0]!.toFixed(0)} -> ${windows.heap[1]!.toFixed(0)}`],
    ['database connections (max)', `${windows.connections[0]} -> ${windows.connections[1]}`],
    ['webhook backlog (median)', `${windows.backlog[0]} -> ${windows.backlog[1]}`],
    ['event-loop lag p99 ms (median of samples)', `${windows.lagP99[0]!.toFixed(1)} -> ${windows.lagP99[1]!.toFixed(1)}`],
    ['request p99 ms', `${windows.latencyP99[0]!.toFixed(0)} -> ${windows.latencyP99[1]!.toFixed(0)}`],
    ['request p99 ms (median of intervals)', `${windows.intervalP99[0]!.toFixed(0)} -> ${windows.intervalP99[1]!.toFixed(0)}`],
    ['server CPU ms per answer (median)', `${windows.cpuPerAnswer[0]!.toFixed(1)} -> ${windows.cpuPerAnswer[1]!.toFixed(1)}`],
  ];
  console.log(`\nsoak, first ${label} -> last ${label}:\n${table(drift)}`);

  const [rssFirst, rssLast] = windows.rss as [number, number];
  const [connFirst, connLast] = windows.connections as [number, number];
  const [lagFirst, lagLast] = windows.lagP99 as [number, number];
  const [p99First, p99Last] = windows.intervalP99 as [number, number];
  const [cpuFirst, cpuLast] = windows.cpuPerAnswer as [number, number];
  const [backlogFirst, backlogLast] = windows.backlog as [number, number];
  const checks = new Checks();
  checks.that(samples.length >= 4 && inFirst.length > 0 && inLast.length > 0, 'enough samples in both windows');
  checks.that(sent >= rate * soakSeconds * 0.9, `the soak held its rate (${sent} sent, ${shed} shed, target ${(rate * soakSeconds).toFixed(0)})`);
  // Bounds wide enough for a shared 2-core machine, tight enough to catch a leak or a pile-up.
  checks.that(rssLast <= rssFirst * 1.3 + 16, `RSS flat (${rssFirst.toFixed(0)} -> ${rssLast.toFixed(0)} MiB)`);
  checks.that(connLast <= Math.max(connFirst, 0) + 2 && connLast <= 14, `database connections flat (${connFirst} -> ${connLast})`);
  checks.that(lagLast <= Math.max(lagFirst * 3, lagFirst + 50), `event-loop lag flat (${lagFirst.toFixed(1)} -> ${lagLast.toFixed(1)} ms)`);
  checks.that(p99Last <= Math.max(p99First * 2, p99First + 250), `p99 does not drift (median interval p99 ${p99First.toFixed(0)} -> ${p99Last.toFixed(0)} ms)`);
  checks.that(backlogLast <= backlogFirst * 2 + 100, `the webhook backlog does not grow (${backlogFirst} -> ${backlogLast} pending)`);
  checks.that(cpuLast <= Math.max(cpuFirst * 1.5, cpuFirst + 2), `the server's CPU per answer does not grow (${cpuFirst.toFixed(1)} -> ${cpuLast.toFixed(1)} ms)`);
  checks.that(verdict.duplicates === 0 && verdict.lost === 0 && verdict.overRefunds === 0 && verdict.mismatches === 0, 'the books are right');
  checks.that(verdict.stuck === 0 && open === 0 && pendingAtEnd === 0, 'nothing stuck');
  checks.that(stats.badErrors.length === 0 && stats.hangs === 0, `no 500, no hang (${stats.badErrors[0] ?? ''})`);
  const unexpected = unexpectedAnswers(stats, []);
  checks.that(unexpected.length === 0, `only expected answers (${unexpected.join(', ')})`);
  checks.that(node.crashes.length === 0, 'the server did not crash');

  report({
    drill: 'soak',
    title: `soak at half the measured peak for ${soakSeconds.toFixed(0)} s (1 serve with its worker)`,
    seconds: (Date.now() - started) / 1000,
    requests: peakStats.requests + stats.requests,
    faults: 0,
    faultDetail: 'none: sustained load',
    retried: peakStats.retried + stats.retried,
    duplicates: verdict.duplicates,
    lost: verdict.lost,
    overRefunds: verdict.overRefunds,
    stuck: verdict.stuck,
    extra: [
      ['measured peak', `${peakPerSecond.toFixed(1)} req/s with their webhooks delivered (API alone ${apiPerSecond.toFixed(1)} req/s, closed loop of ${SIZE.peakConcurrency} for ${SIZE.peakMs / 1000} s, leaving ${backlogAfterPeak} deliveries queued); bench/results: ${benchPeak()}`],
      ['soak rate', `${rate.toFixed(1)} req/s for ${soakSeconds.toFixed(0)} s: ${sent} sent, ${shed} shed`],
      ...drift.map(([name, value]): [string, string] => [`${name}, first -> last ${label}`, value]),
      ['payments / refunds / webhooks', `${verdict.payments} / ${verdict.refunds} / ${receiver.total()}`],
      ['answers 5xx / network', fiveHundreds(stats)],
      ['mode', MODE],
    ],
    passed: checks.failed.length === 0,
    violations: [...checks.failed.map((f) => `FAILED: ${f}`), ...verdict.violations],
  });
  expect(checks.failed).toEqual([]);
}, sized({ ci: 240_000, long: 1_200_000 }));
