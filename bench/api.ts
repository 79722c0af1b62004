/**
 * The API benchmark (`npm run bench`): a fresh database on the real PostgreSQL, the
 * server as a separate process, autocannon from this one. Prints a table and writes
 * bench/results/<date>.json with, in the same run, the two limits the API is compared
 * against: pgbench replaying the SQL one create-payment issues, and a bare Elysia route
 * with the same body validation.
 *
 * Creates send a fresh Idempotency-Key each (as API.md recommends and integrators do).
 * Knobs: BENCH_DATABASE_URL (an admin connection, default postgres://postgres@127.0.0.1:5432/postgres),
 * BENCH_SECONDS (per load phase, default 8), BENCH_WEBHOOK_EVENTS (deliveries in the
 * backlog, default 3200, over 8 endpoints). Loopback only; every phase is bounded.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { accessToken, freePort, freshDatabase, ROOT, sampleRss, startServer, type RunningServer } from './support/server';
import { load, table, type LoadFigures } from './support/load';
import { capturedSince, logOffset, pgbenchScript, runPgbench, setStatementLogging } from './support/replay';
import { auth, CREATE_BODY, createOne, idempotencyKey, webhookPhases } from './support/webhook-phases';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);

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

/** The API under load: creates at three concurrencies, reads, token issuance; RSS sampled throughout. */
async function apiPhases(server: RunningServer, token: string, analyze: () => Promise<void>) {
  const paymentId = await createOne(server, token);
  const create = (connections: number) =>
    load({ name: `create payment c=${connections}`, url: `${server.url}/v1/payments`, connections, seconds: SECONDS, method: 'POST', headers: auth(token), body: CREATE_BODY, perRequest: idempotencyKey });
  await load({ name: 'warm-up', url: `${server.url}/v1/payments`, connections: 8, seconds: 3, method: 'POST', headers: auth(token), body: CREATE_BODY, perRequest: idempotencyKey });
  const rssIdleMb = server.rssMb();
  const rss = sampleRss(() => server.rssMb());
  const creates = [await create(1), await create(8), await create(32)];
  const noKey = await load({ name: 'create payment c=32, no Idempotency-Key', url: `${server.url}/v1/payments`, connections: 32, seconds: SECONDS, method: 'POST', headers: auth(token), body: CREATE_BODY });
  // The create phases just wrote thousands of payments into an empty table: its planner
  // statistics still say it holds almost none, and a page of the list was then planned as
  // a sort of every one of the tenant's payments (230 req/s instead of 2,600). Autovacuum
  // analyzes a table that grew like this within its naptime (a minute); the reads are
  // measured as they run after that.
  await analyze();
  const get = await load({ name: 'GET /v1/payments/:id c=32', url: `${server.url}/v1/payments/${paymentId}`, connections: 32, seconds: SECONDS, headers: auth(token) });
  const list = await load({ name: 'GET /v1/payments?limit=10 c=32', url: `${server.url}/v1/payments?limit=10`, connections: 32, seconds: SECONDS, headers: auth(token) });
  const basic = Buffer.from(`${server.demo.clientId}:${server.demo.clientSecret}`).toString('base64');
  const tokens = await load({
    name: 'POST /oauth/token c=32',
    url: `${server.url}/oauth/token`,
    connections: 32,
    seconds: SECONDS,
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  return { creates, noKey, get, list, tokens, rssIdleMb, rssPeakMb: rss.stop() };
}

/** The SQL of one create-payment (with its Idempotency-Key), captured from PostgreSQL with no worker talking, replayed by pgbench. */
async function replayPhase(database: { name: string; url: string }, demo: RunningServer['demo']) {
  await setStatementLogging(database.name, true);
  const server = await startServer(database.url, { args: ['--no-worker'], demo });
  const token = await accessToken(server);
  await createOne(server, token);
  await Bun.sleep(300);
  const offset = logOffset();
  await createOne(server, token);
  await Bun.sleep(500);
  const statements = capturedSince(offset, database.name).filter((statement) => !/^\s*(un)?listen\b/i.test(statement.sql));
  await server.stop();
  await setStatementLogging(database.name, false);
  const script = pgbenchScript(statements);
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/create-payment.pgbench.sql'), script);
  const runs = [];
  for (const connections of [8, 32]) {
    const run = await runPgbench(database.url, script, connections, SECONDS);
    if (!run.tps) console.error(run.output.slice(-2000));
    runs.push({ connections: run.connections, tps: run.tps, statements: run.statements, transactions: run.transactions });
  }
  return runs;
}

function print(results: Record<string, unknown>, phases: Awaited<ReturnType<typeof apiPhases>>, bare: { post: LoadFigures; get: LoadFigures }): void {
  const rows = [...phases.creates, phases.noKey, phases.get, phases.list, phases.tokens, bare.post, bare.get].map((f) => ({
    phase: f.name,
    'req/s': f.perSecond,
    p50_ms: f.p50,
    p99_ms: f.p99,
    'p99.9_ms': f.p999,
    errors: f.errors + f.non2xx,
  }));
  const pgbench = results.pgbench as Array<{ connections: number; tps: number; statements: number; transactions: number }>;
  const ratios = results.ratios as Record<string, number>;
  const hooks = results.webhooks as Record<string, number>;
  console.log(`NimbusPay API benchmark, PostgreSQL on loopback, ${SECONDS} s per phase\n`);
  console.log(table(rows));
  console.log(
    `\n${table([
      { figure: 'pgbench replay of one create (c=8 / c=32), tps', value: pgbench.map((p) => p.tps.toFixed(0)).join(' / ') },
      { figure: 'statements / transactions per create (captured)', value: `${pgbench[0]!.statements} / ${pgbench[0]!.transactions}` },
      { figure: 'create peak vs pgbench replay', value: ratios.createVsPgbench!.toFixed(2) },
      { figure: 'GET by id vs bare Elysia GET', value: ratios.getVsBareElysia!.toFixed(3) },
      { figure: 'webhooks: backlog drained, deliveries/s', value: `${hooks.deliveriesPerSecond!.toFixed(0)} (${hooks.delivered} of ${hooks.deliveries})` },
      { figure: 'webhooks: commit-to-receipt p50 / p99 ms (steady stream)', value: `${hooks.commitToReceiptP50} / ${hooks.commitToReceiptP99}` },
      { figure: 'RSS idle / peak MB', value: `${(results.rssIdleMb as number).toFixed(0)} / ${(results.rssPeakMb as number).toFixed(0)}` },
      { figure: 'cold start to ready (migrated database) ms', value: (results.coldStartMs as number).toFixed(0) },
    ])}`,
  );
}

async function analyzeTables(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql`analyze`;
  } finally {
    await sql.end();
  }
}

async function main(): Promise<void> {
  const database = await freshDatabase();
  const results: Record<string, unknown> = { date: new Date().toISOString(), seconds: SECONDS };
  try {
    // First start migrates and creates the demo tenant; the second is a real cold start.
    const first = await startServer(database.url);
    results.firstStartMs = first.coldStartMs;
    await first.stop();
    const server = await startServer(database.url, { demo: first.demo });
    results.coldStartMs = server.coldStartMs;
    const phases = await apiPhases(server, await accessToken(server), () => analyzeTables(database.url));
    await server.stop();
    Object.assign(results, { create: phases.creates, createWithoutKey: phases.noKey, get: phases.get, list: phases.list, token: phases.tokens, rssIdleMb: phases.rssIdleMb, rssPeakMb: phases.rssPeakMb });
    results.webhooks = await webhookPhases(database.url, first.demo, {
      deliveries: Number(process.env.BENCH_WEBHOOK_EVENTS ?? 3200),
      endpoints: 8,
      rate: 25,
      seconds: Math.min(SECONDS, 6),
    });
    const pgbench = await replayPhase(database, first.demo);
    results.pgbench = pgbench;
    const bare = await bareElysia();
    results.bare = bare;

    const peakCreate = Math.max(...phases.creates.map((c) => c.perSecond));
    const peakPgbench = Math.max(...pgbench.map((p) => p.tps));
    results.ratios = {
      createVsPgbench: peakPgbench ? peakCreate / peakPgbench : 0,
      getVsBareElysia: bare.get.perSecond ? phases.get.perSecond / bare.get.perSecond : 0,
      createVsBareElysia: bare.post.perSecond ? peakCreate / bare.post.perSecond : 0,
    };
    print(results, phases, bare);
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
