/**
 * The API benchmark (`npm run bench api`): a fresh database on the real PostgreSQL, the
 * server as a separate process, autocannon from this one. Prints a table and writes
 * bench/results/<date>.json with, in the same run, the two limits the API is compared
 * against: pgbench replaying the SQL one create-payment issues, and a bare Elysia route
 * with the same body validation.
 *
 * Knobs: BENCH_DATABASE_URL (an admin connection, default postgres://postgres@127.0.0.1:5432/postgres),
 * BENCH_SECONDS (per load phase, default 8). Loopback only; every phase is bounded.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { accessToken, freePort, freshDatabase, ROOT, sampleRss, startServer, type RunningServer } from './support/server';
import { load, percentile, table, type LoadFigures } from './support/load';
import { capturedSince, logOffset, pgbenchScript, runPgbench, setStatementLogging } from './support/replay';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CARD = { type: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2040, cvc: '123' } };
const CREATE_BODY = JSON.stringify({ amount: 2000, currency: 'EUR', payment_method: CARD });

function auth(token: string) {
  return { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
}

async function createOne(server: RunningServer, token: string): Promise<string> {
  const response = await fetch(`${server.url}/v1/payments`, { method: 'POST', headers: auth(token), body: CREATE_BODY });
  if (response.status !== 201) throw new Error(`create payment answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { id: string }).id;
}

/** Payments with a webhook endpoint on a loopback receiver: deliveries/s and commit-to-receipt. */
async function webhookPhase(server: RunningServer, token: string, count: number) {
  const arrivals: number[] = [];
  const lags: number[] = [];
  const receiver = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      const event = (await request.json()) as { created_at: string };
      const now = Date.now();
      arrivals.push(now);
      lags.push(now - Date.parse(event.created_at));
      return new Response('ok');
    },
  });
  const created = await fetch(`${server.url}/v1/webhook_endpoints`, {
    method: 'POST',
    headers: auth(token),
    body: JSON.stringify({ url: `http://127.0.0.1:${receiver.port}/hook`, enabled_events: ['payment.succeeded'] }),
  });
  if (created.status !== 201) throw new Error(`webhook endpoint answered ${created.status}: ${await created.text()}`);
  const started = Date.now();
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next++ < count) await createOne(server, token);
  }));
  const deadline = Date.now() + 120_000;
  while (arrivals.length < count && Date.now() < deadline) await Bun.sleep(50);
  receiver.stop(true);
  const first = Math.min(...arrivals);
  const last = Math.max(...arrivals);
  const sorted = [...lags].sort((a, b) => a - b);
  return {
    events: count,
    delivered: arrivals.length,
    deliveriesPerSecond: arrivals.length / Math.max(0.001, (last - first) / 1000),
    burstSeconds: (last - started) / 1000,
    commitToReceiptP50: percentile(sorted, 50),
    commitToReceiptP99: percentile(sorted, 99),
  };
}

async function bareElysia(): Promise<{ post: LoadFigures; get: LoadFigures }> {
  const port = await freePort();
  const child = Bun.spawn([process.execPath, join(ROOT, 'bench/support/bare-elysia.ts'), String(port)], { stdout: 'pipe', stderr: 'inherit' });
  const reader = child.stdout.getReader();
  await reader.read(); // "ready"
  const url = `http://127.0.0.1:${port}/v1/payments`;
  const post = await load({ name: 'bare Elysia POST (same validation)', url, connections: 32, seconds: SECONDS, method: 'POST', headers: { 'content-type': 'application/json' }, body: CREATE_BODY });
  const get = await load({ name: 'bare Elysia GET', url: `${url}/pay_x`, connections: 32, seconds: SECONDS });
  child.kill('SIGKILL');
  return { post, get };
}

async function main(): Promise<void> {
  const database = await freshDatabase();
  const results: Record<string, unknown> = { date: new Date().toISOString(), seconds: SECONDS };
  try {
    // First start migrates and creates the demo tenant; the second is a real cold start.
    const first = await startServer(database.url);
    results.firstStartMs = first.coldStartMs;
    await first.stop();
    let server = await startServer(database.url, { demo: first.demo });
    results.coldStartMs = server.coldStartMs;
    const token = await accessToken(server);
    const paymentId = await createOne(server, token);
    await load({ name: 'warm-up', url: `${server.url}/v1/payments`, connections: 8, seconds: 3, method: 'POST', headers: auth(token), body: CREATE_BODY });
    results.rssIdleMb = server.rssMb();

    const rss = sampleRss(() => server.rssMb());
    const create: LoadFigures[] = [];
    for (const connections of [1, 8, 32]) {
      create.push(await load({ name: `create payment c=${connections}`, url: `${server.url}/v1/payments`, connections, seconds: SECONDS, method: 'POST', headers: auth(token), body: CREATE_BODY }));
    }
    const get = await load({ name: 'GET /v1/payments/:id c=32', url: `${server.url}/v1/payments/${paymentId}`, connections: 32, seconds: SECONDS, headers: auth(token) });
    const list = await load({ name: 'GET /v1/payments?limit=10 c=32', url: `${server.url}/v1/payments?limit=10`, connections: 32, seconds: SECONDS, headers: auth(token) });
    results.rssPeakMb = rss.stop();
    results.create = create;
    results.get = get;
    results.list = list;
    results.webhooks = await webhookPhase(server, token, Number(process.env.BENCH_WEBHOOK_EVENTS ?? 1000));
    await server.stop();

    // The SQL of one create-payment, captured from PostgreSQL (no workers, so nothing else talks).
    await setStatementLogging(database.name, true);
    server = await startServer(database.url, { args: ['--no-worker'], demo: first.demo });
    const captureToken = await accessToken(server);
    await createOne(server, captureToken);
    await Bun.sleep(300);
    const offset = logOffset();
    await createOne(server, captureToken);
    await Bun.sleep(500);
    const statements = capturedSince(offset, database.name).filter((statement) => !/^\s*(un)?listen\b/i.test(statement.sql));
    await server.stop();
    await setStatementLogging(database.name, false);
    const script = pgbenchScript(statements);
    writeFileSync(join(ROOT, 'bench/results/create-payment.pgbench.sql'), script);
    const pgbench = [];
    for (const connections of [8, 32]) {
      const run = await runPgbench(database.url, script, connections, SECONDS);
      if (!run.tps) console.error(run.output.slice(-2000));
      pgbench.push({ connections: run.connections, tps: run.tps, statements: run.statements, transactions: run.transactions });
    }
    results.pgbench = pgbench;
    results.bare = await bareElysia();

    const peakCreate = Math.max(...create.map((c) => c.perSecond));
    const peakPgbench = Math.max(...pgbench.map((p) => p.tps));
    const bare = results.bare as { post: LoadFigures; get: LoadFigures };
    results.ratios = {
      createVsPgbench: peakPgbench ? peakCreate / peakPgbench : 0,
      getVsBareElysia: bare.get.perSecond ? get.perSecond / bare.get.perSecond : 0,
      createVsBareElysia: bare.post.perSecond ? peakCreate / bare.post.perSecond : 0,
    };

    const rows = [...create, get, list, bare.post, bare.get].map((f) => ({
      phase: f.name,
      'req/s': f.perSecond,
      p50_ms: f.p50,
      p99_ms: f.p99,
      'p99.9_ms': f.p999,
      errors: f.errors + f.non2xx,
    }));
    console.log(`NimbusPay API benchmark, PostgreSQL on loopback, ${SECONDS} s per phase\n`);
    console.log(table(rows));
    const hooks = results.webhooks as Record<string, number>;
    console.log(
      `\n${table([
        { figure: 'pgbench replay of one create (c=8 / c=32), tps', value: pgbench.map((p) => p.tps.toFixed(0)).join(' / ') },
        { figure: 'statements / transactions per create (captured)', value: `${pgbench[0]!.statements} / ${pgbench[0]!.transactions}` },
        { figure: 'create peak vs pgbench replay', value: (results.ratios as Record<string, number>).createVsPgbench!.toFixed(2) },
        { figure: 'GET by id vs bare Elysia GET', value: (results.ratios as Record<string, number>).getVsBareElysia!.toFixed(3) },
        { figure: 'webhooks: deliveries/s (burst of payments)', value: hooks.deliveriesPerSecond!.toFixed(0) },
        { figure: 'webhooks: commit-to-receipt p50 / p99 ms', value: `${hooks.commitToReceiptP50} / ${hooks.commitToReceiptP99}` },
        { figure: 'RSS idle / peak MB', value: `${(results.rssIdleMb as number).toFixed(0)} / ${(results.rssPeakMb as number).toFixed(0)}` },
        { figure: 'cold start to ready (migrated database) ms', value: (results.coldStartMs as number).toFixed(0) },
      ])}`,
    );
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    const file = join(ROOT, 'bench/results', `${new Date().toISOString().slice(0, 10)}.json`);
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\nwritten: ${file}`);
  } finally {
    await setStatementLogging(database.name, false).catch(() => undefined);
    await database.drop();
  }
  process.exit(0);
}

await main();
