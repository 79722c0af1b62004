/**
 * Drill 4: processor faults at 10% of traffic. Two API replicas and a worker; one in ten
 * payments uses a fault card of the simulator (4000000000000408: the answer is lost, the
 * processor approved; 4000000000000119: a retryable processor error), and one replica
 * (and the worker) sees injected processor latency (NIMBUS_SIMULATOR_LATENCY_MS). Then a
 * burst of consecutive processor errors at one replica opens its circuit breaker.
 * Nothing is charged twice or charged without NimbusPay knowing (simulator ledger vs
 * NimbusPay), the error and breaker metrics move, and reconciliation settles every
 * unknown outcome to what the processor did.
 */
import { afterAll, expect, test } from 'bun:test';
import { createClient, percentile, Stats } from './support/client';
import { type Cluster, metricSum, type NodeProcess, scrape, startCluster } from './support/cluster';
import { Checks, createEndpoints, fiveHundreds, runId, unexpectedAnswers } from './support/drill';
import { MODE, sized } from './support/env';
import { report } from './support/figures';
import { CARDS, newJournal, runLoad } from './support/flows';
import { startDrillReceiver } from './support/receiver';
import { verify, waitForDeliveries, waitForSettled } from './support/verify';

const SIZE = sized({
  ci: { flows: 300, maxMs: 14_000, concurrency: 6, waitForBreakerClose: false },
  long: { flows: 2_000, maxMs: 180_000, concurrency: 8, waitForBreakerClose: true },
});
const FAULT_SHARE = 0.1;
const LATENCY_MS = { api2: 150, worker: 50 };
/** The SDK's defaults (processors/sdk/breaker.ts): 5 failures in a row open it for 30 s. */
const BREAKER = { failures: 5, openMs: 30_000 };

let cluster: Cluster | undefined;
const receiver = startDrillReceiver();
afterAll(async () => {
  receiver.stop();
  await cluster?.stop();
});

const SERIES = [
  ['timeout', 'nimbus_processor_errors_total', 'kind="timeout"'],
  ['retryable', 'nimbus_processor_errors_total', 'kind="retryable"'],
  ['circuit_open', 'nimbus_processor_errors_total', 'kind="circuit_open"'],
] as const;

async function processorFigures(nodes: NodeProcess[]): Promise<Record<(typeof SERIES)[number][0], number>> {
  const out = { timeout: 0, retryable: 0, circuit_open: 0 };
  for (const node of nodes) {
    const metrics = await scrape(node);
    for (const [name, metric, label] of SERIES) out[name] += metricSum(metrics, metric, label);
  }
  return out;
}

/** Mean duration of the processor calls a process made (authorize, capture, refund, sync...). */
async function meanCallMs(node: NodeProcess): Promise<number> {
  const metrics = await scrape(node);
  const count = metricSum(metrics, 'nimbus_processor_request_duration_seconds_count');
  return count ? (metricSum(metrics, 'nimbus_processor_request_duration_seconds_sum') / count) * 1000 : 0;
}

test('drill 4: processor faults at 10% of traffic: nothing double-charged, every unknown outcome settled', async () => {
  const started = Date.now();
  cluster = await startCluster({
    label: 'faults',
    api: 2,
    workers: 1,
    envFor: { 'api-2': { NIMBUS_SIMULATOR_LATENCY_MS: String(LATENCY_MS.api2) }, 'worker-1': { NIMBUS_SIMULATOR_LATENCY_MS: String(LATENCY_MS.worker) } },
  });
  const c = cluster;
  const endpoints = await createEndpoints(c, receiver, ['/a']);
  const stats = new Stats();
  const client = createClient({ urls: () => c.api.map((node) => node.url), token: () => c.token, stats });
  const journal = newJournal();
  const before = await processorFigures(c.nodes);

  const load = await runLoad({ client, journal, runId: runId('faults'), flows: SIZE.flows, maxMs: SIZE.maxMs, concurrency: SIZE.concurrency, faultShare: FAULT_SHARE });
  const afterLoad = await processorFigures(c.nodes);

  // The breaker: consecutive processor errors at api-1 alone (nothing else is sent meanwhile).
  const api1 = c.api[0]!;
  const single = createClient({ urls: () => [api1.url], token: () => c.token, stats });
  const burst = runId('breaker');
  const breakerAnswers: string[] = [];
  for (let n = 0; n < BREAKER.failures + 1; n++) {
    const key = `${burst}-${n}`;
    const answer = await single.send('POST', '/v1/payments', {
      amount: 1500,
      currency: 'EUR',
      payment_method: { type: 'card', card: { number: CARDS.processorError, exp_month: 12, exp_year: new Date().getUTCFullYear() + 4, cvc: '123' } },
      metadata: { drill_key: key, drill_flow: 'breaker_burst' },
    }, key);
    breakerAnswers.push(`${answer.status} ${answer.body?.status ?? ''} ${answer.body?.failure?.code ?? answer.body?.error?.code ?? ''}`.trim());
  }
  const openGauge = metricSum(await scrape(api1), 'nimbus_processor_circuit_open', 'processor="simulator"');
  // While open: a good card is refused at once, nothing is charged, the payment says so.
  const whileOpenKey = `${burst}-while-open`;
  const whileOpen = await single.send('POST', '/v1/payments', {
    amount: 1700,
    currency: 'EUR',
    payment_method: { type: 'card', card: { number: CARDS.visa, exp_month: 12, exp_year: new Date().getUTCFullYear() + 4, cvc: '123' } },
    metadata: { drill_key: whileOpenKey, drill_flow: 'breaker_open' },
  }, whileOpenKey);
  journal.records.push({ key: whileOpenKey, op: 'create', flow: 'processor_error', paymentId: whileOpen.body?.id, answer: whileOpen });
  let closedAgain = 'not waited (CI: 30 s open)';
  if (SIZE.waitForBreakerClose) {
    await Bun.sleep(BREAKER.openMs + 1_000);
    const probeKey = `${burst}-probe`;
    const probe = await single.send('POST', '/v1/payments', {
      amount: 1800,
      currency: 'EUR',
      payment_method: { type: 'card', card: { number: CARDS.visa, exp_month: 12, exp_year: new Date().getUTCFullYear() + 4, cvc: '123' } },
      metadata: { drill_key: probeKey, drill_flow: 'breaker_probe' },
    }, probeKey);
    journal.records.push({ key: probeKey, op: 'create', flow: 'refunds', paymentId: probe.body?.id, answer: probe });
    const gauge = metricSum(await scrape(api1), 'nimbus_processor_circuit_open', 'processor="simulator"');
    closedAgain = `probe ${probe.body?.status}, gauge ${gauge}`;
  }
  const after = await processorFigures(c.nodes);

  const open = await waitForSettled(c.database.sql, 60_000);
  const pendingDeliveries = await waitForDeliveries(c.database.sql, 180_000);
  const verdict = await verify(c.database.sql, journal, receiver, { endpoints });
  // Each fault card ended as the processor says: the lost answer approved, the error refused.
  const outcomes = (await c.database.sql`select metadata->>'drill_flow' as flow, status, failure->>'code' as code, count(*)::int as n
    from payments where metadata->>'drill_flow' in ('timeout', 'processor_error', 'breaker_burst', 'breaker_open') group by 1, 2, 3 order by 1, 2`) as unknown as Array<{
    flow: string;
    status: string;
    code: string | null;
    n: number;
  }>;
  const outcome = (flow: string) => outcomes.filter((o) => o.flow === flow);
  const wrongTimeouts = outcome('timeout').filter((o) => o.status !== 'succeeded');
  const wrongErrors = outcome('processor_error').filter((o) => o.status !== 'failed' || o.code !== 'processing_error');
  const timeouts = outcome('timeout').reduce((n, o) => n + o.n, 0);
  const errors = outcome('processor_error').reduce((n, o) => n + o.n, 0);

  const checks = new Checks();
  checks.that(timeouts > 0 && errors > 0, `both fault cards were used (${timeouts} timeouts, ${errors} errors)`);
  checks.that(wrongTimeouts.length === 0, `every lost answer was reconciled to approved (${JSON.stringify(wrongTimeouts)})`);
  checks.that(wrongErrors.length === 0, `every processor error ended failed/processing_error (${JSON.stringify(wrongErrors)})`);
  checks.that(afterLoad.timeout - before.timeout >= timeouts, 'timeouts counted in nimbus_processor_errors_total{kind="timeout"}');
  checks.that(afterLoad.retryable - before.retryable >= errors, 'retryable errors counted in nimbus_processor_errors_total{kind="retryable"}');
  checks.that(openGauge === 1, `api-1's breaker opened after ${BREAKER.failures} errors in a row (gauge ${openGauge})`);
  checks.that(whileOpen.status === 201 && whileOpen.body?.status === 'failed' && whileOpen.body?.failure?.code === 'processor_unavailable', `while open, a payment fails at once as processor_unavailable (${whileOpen.status} ${whileOpen.body?.failure?.code})`);
  checks.that(after.circuit_open - afterLoad.circuit_open >= 1, 'calls kept back by the open breaker are counted (kind="circuit_open")');
  if (SIZE.waitForBreakerClose) checks.that(closedAgain === 'probe succeeded, gauge 0', `the breaker closed again after ${BREAKER.openMs / 1000} s (${closedAgain})`);
  checks.that(verdict.duplicates === 0 && verdict.lost === 0 && verdict.mismatches === 0, 'nothing double-charged, nothing charged without NimbusPay knowing');
  checks.that(verdict.overRefunds === 0, 'no over-refunds');
  checks.that(verdict.stuck === 0 && open === 0 && pendingDeliveries === 0, 'reconciliation settled every unknown outcome');
  checks.that(stats.badErrors.length === 0 && stats.hangs === 0, `no 500, no hang (${stats.badErrors[0] ?? ''})`);
  const unexpected = unexpectedAnswers(stats, []);
  checks.that(unexpected.length === 0, `only expected answers (${unexpected.join(', ')})`);
  checks.that(c.nodes.every((node) => node.crashes.length === 0), 'no process crashed');

  const latencies = await Promise.all(c.nodes.map(async (node) => `${node.name} ${(await meanCallMs(node)).toFixed(0)} ms`));
  report({
    drill: 'processor-faults',
    title: 'processor faults at 10% of traffic, injected latency, breaker opened (2 API replicas, 1 worker)',
    seconds: (Date.now() - started) / 1000,
    requests: stats.requests,
    faults: timeouts + errors + BREAKER.failures + 1,
    faultDetail: `${timeouts} lost answers (4000000000000408), ${errors} processor errors (4000000000000119) in ${load.flows} flows; a burst of ${BREAKER.failures + 1} errors at api-1; latency +${LATENCY_MS.api2} ms at api-2, +${LATENCY_MS.worker} ms at the worker`,
    retried: stats.retried,
    duplicates: verdict.duplicates,
    lost: verdict.lost,
    overRefunds: verdict.overRefunds,
    stuck: verdict.stuck,
    extra: [
      ['payments / processor authorizations', `${verdict.payments} / ${verdict.authorizations}`],
      ['NimbusPay vs processor mismatches', verdict.mismatches],
      ['errors_total timeout / retryable / circuit_open', `+${after.timeout - before.timeout} / +${after.retryable - before.retryable} / +${after.circuit_open - before.circuit_open}`],
      ['breaker', `opened (gauge ${openGauge}) after: ${breakerAnswers.join(', ')}; while open: ${whileOpen.status} ${whileOpen.body?.failure?.code ?? ''}; closed again: ${closedAgain}`],
      ['mean processor call', latencies.join(', ')],
      ['reconciled lost answers', `${timeouts - wrongTimeouts.length} of ${timeouts} approved`],
      ['answers 5xx / network', fiveHundreds(stats)],
      ['latency p50 / p99', `${percentile(stats.latencies, 50).toFixed(0)} / ${percentile(stats.latencies, 99).toFixed(0)} ms`],
      ['mode', MODE],
    ],
    passed: checks.failed.length === 0,
    violations: [...checks.failed.map((f) => `FAILED: ${f}`), ...verdict.violations],
  });
  expect(checks.failed).toEqual([]);
}, sized({ ci: 240_000, long: 900_000 }));
