/**
 * Webhook delivery benchmark: events committed through recordEvent (the outbox), the
 * in-process worker, a receiver on loopback. Prints deliveries per second for a burst
 * and commit-to-receipt latency (p50, p99) for a paced stream.
 *
 *   bun bench/webhooks.ts                      # embedded PGlite, in memory
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench bun bench/webhooks.ts
 *
 * Knobs: BENCH_EVENTS (burst size, 2000), BENCH_PACED (paced events, 300),
 * BENCH_RATE (paced events per second, 100), BENCH_CONCURRENCY (worker slots, 32).
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { createPgliteDatabase, createPostgresDatabase, type Database, migrate, schema } from '../db';
import { recordEvent } from '../webhooks/test-support';
import { randomId } from '../runtime/ids';
import { silentLogger } from '../runtime/logger';
import { createMetrics } from '../runtime/metrics';
import { createEndpoint } from '../webhooks/service';
import { startReceiver } from '../webhooks/test-support';
import { startWebhookWorker } from '../webhooks/worker';

const BURST = Number(process.env.BENCH_EVENTS ?? 2000);
const PACED = Number(process.env.BENCH_PACED ?? 300);
const RATE = Number(process.env.BENCH_RATE ?? 100);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);

async function openDatabase(): Promise<{ database: Database; drop: () => Promise<void>; label: string }> {
  const url = process.env.BENCH_DATABASE_URL;
  if (!url) {
    const database = createPgliteDatabase();
    await migrate(database);
    return { database, drop: () => database.close(), label: 'PGlite (embedded, in memory)' };
  }
  const name = `nimbus_bench_${randomBytes(4).toString('hex')}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  const target = new URL(url);
  target.pathname = `/${name}`;
  const database = createPostgresDatabase(target.toString(), { maxConnections: 20 });
  await migrate(database);
  return {
    database,
    label: 'PostgreSQL',
    drop: async () => {
      await database.close();
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end();
    },
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const { database, drop, label } = await openDatabase();
  const receiver = startReceiver();
  const tenantId = randomId('ten');
  await database.system((tx) => tx.insert(schema.tenants).values({ id: tenantId, name: 'Bench' }));
  await createEndpoint(database, tenantId, { url: receiver.url, enabled_events: ['*'] }, { allowPrivate: true });
  const worker = startWebhookWorker(
    { database, logger: silentLogger, metrics: createMetrics() },
    { allowPrivate: true, concurrency: CONCURRENCY, perEndpoint: CONCURRENCY, pollIntervalMs: 1000 },
  );
  const committedAt = new Map<string, number>();
  const write = async (n: number) => {
    const event = await database.tenant(tenantId, (tx) =>
      recordEvent(tx, { tenantId, type: 'payment.succeeded', objectId: `pay_${n}`, object: { id: `pay_${n}`, object: 'payment', amount: 2000, currency: 'EUR' } }),
    );
    committedAt.set(event.id, performance.now());
  };

  // Burst: every event committed as fast as 8 writers can, then drained.
  const burstStart = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < BURST) await write(next++);
  }));
  const committed = performance.now();
  await receiver.waitFor(BURST, 300_000);
  const burstSeconds = (performance.now() - burstStart) / 1000;

  // Paced: a steady stream, to measure commit-to-receipt latency without a backlog.
  const arrivalsBefore = receiver.received.length;
  const receivedAt = new Map<string, number>();
  const original = receiver.respond;
  receiver.respond = (request, n) => {
    receivedAt.set(request.headers.get('webhook-id')!, performance.now());
    return original(request, n);
  };
  for (let i = 0; i < PACED; i++) {
    await write(BURST + i);
    await Bun.sleep(1000 / RATE);
  }
  await receiver.waitFor(arrivalsBefore + PACED, 120_000);
  const latencies = [...receivedAt].map(([id, at]) => at - committedAt.get(id)!).sort((a, b) => a - b);

  await worker.stop();
  receiver.stop();
  await drop();

  console.log(`webhooks benchmark on ${label}, worker concurrency ${CONCURRENCY}, receiver on loopback`);
  console.log(`burst: ${BURST} events committed in ${((committed - burstStart) / 1000).toFixed(2)} s, all delivered in ${burstSeconds.toFixed(2)} s -> ${(BURST / burstSeconds).toFixed(0)} deliveries/s`);
  console.log(`paced: ${PACED} events at ${RATE}/s, commit-to-receipt latency p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms`);
  process.exit(0);
}

await main();
