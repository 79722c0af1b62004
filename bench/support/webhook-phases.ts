/**
 * The webhook figures of the API benchmark, on the real processes: deliveries per second
 * for a backlog drained by `nimbus worker`, and commit-to-receipt latency for a steady
 * stream of payments with the worker in `nimbus serve`. The receiver runs here, on
 * loopback; every wait is bounded.
 */
import { randomUUID } from 'node:crypto';
import { percentile } from './load';
import { accessToken, startServer, type RunningServer } from './server';

export const CARD = { type: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2040, cvc: '123' } };
export const CREATE_BODY = JSON.stringify({ amount: 2000, currency: 'EUR', payment_method: CARD });

export function auth(token: string) {
  return { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
}

/** A fresh Idempotency-Key, as an integrator sends with every create (the `idem_` prefix lets the SQL replay vary it). */
export const idempotencyKey = () => ({ 'idempotency-key': `idem_${randomUUID().replaceAll('-', '')}` });

export async function createOne(server: RunningServer, token: string): Promise<string> {
  const response = await fetch(`${server.url}/v1/payments`, { method: 'POST', headers: { ...auth(token), ...idempotencyKey() }, body: CREATE_BODY });
  if (response.status !== 201) throw new Error(`create payment answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { id: string }).id;
}

function startReceiver() {
  const arrivals: number[] = [];
  const lags: number[] = [];
  const server = Bun.serve({
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
  return { url: `http://127.0.0.1:${server.port}/hook`, arrivals, lags, stop: () => server.stop(true) };
}

async function subscribe(server: RunningServer, token: string, url: string): Promise<string> {
  const created = await fetch(`${server.url}/v1/webhook_endpoints`, { method: 'POST', headers: auth(token), body: JSON.stringify({ url, enabled_events: ['*'] }) });
  if (created.status !== 201) throw new Error(`webhook endpoint answered ${created.status}: ${await created.text()}`);
  return ((await created.json()) as { id: string }).id;
}

async function waitFor(condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await Bun.sleep(20);
}

export interface WebhookFigures {
  deliveries: number;
  delivered: number;
  deliveriesPerSecond: number;
  commitToReceiptP50: number;
  commitToReceiptP99: number;
  paced: number;
}

/**
 * 1. Backlog: `deliveries` pending deliveries (a payment's created and succeeded events,
 *    to each of `endpoints` endpoints of the tenant, all on one receiver), committed with
 *    no worker running; then `nimbus worker` (default tuning: 32 in flight, 4 per
 *    endpoint) drains them: deliveries/s from the first arrival to the last.
 * 2. Steady: payments at `rate` per second for `seconds` to one endpoint (two events
 *    each, well inside one endpoint's 4 in flight), the worker in `nimbus serve`: from
 *    each event's creation to its arrival, p50 and p99.
 */
export async function webhookPhases(
  databaseUrl: string,
  demo: RunningServer['demo'],
  options: { deliveries: number; endpoints: number; rate: number; seconds: number },
): Promise<WebhookFigures> {
  const backlog = startReceiver();
  let server = await startServer(databaseUrl, { demo, args: ['--no-worker'] });
  let token = await accessToken(server);
  const endpoints: string[] = [];
  for (let i = 0; i < options.endpoints; i++) endpoints.push(await subscribe(server, token, `${backlog.url}/${i}`));
  let next = 0;
  const perPayment = 2 * options.endpoints;
  const payments = Math.ceil(options.deliveries / perPayment);
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next++ < payments) await createOne(server, token);
    }),
  );
  await server.stop();
  const worker = await startServer(databaseUrl, { demo, command: 'worker' });
  await waitFor(() => backlog.arrivals.length >= payments * perPayment, 120_000);
  await worker.stop();
  backlog.stop();
  const first = Math.min(...backlog.arrivals);
  const last = Math.max(...backlog.arrivals);

  // The backlog's endpoints go with their receiver: one new endpoint for the steady stream.
  const steady = startReceiver();
  server = await startServer(databaseUrl, { demo });
  token = await accessToken(server);
  for (const id of endpoints) await fetch(`${server.url}/v1/webhook_endpoints/${id}`, { method: 'DELETE', headers: auth(token) });
  await subscribe(server, token, steady.url);
  const total = Math.max(1, Math.round(options.rate * options.seconds));
  for (let i = 0; i < total; i++) {
    void createOne(server, token).catch(() => undefined);
    await Bun.sleep(1000 / options.rate);
  }
  await waitFor(() => steady.arrivals.length >= total * 2, 30_000);
  await server.stop();
  steady.stop();
  // Backlog endpoint deliveries keep failing to a stopped receiver: not counted here.
  const sorted = [...steady.lags].sort((a, b) => a - b);
  return {
    deliveries: payments * perPayment,
    delivered: backlog.arrivals.length,
    deliveriesPerSecond: backlog.arrivals.length / Math.max(0.001, (last - first) / 1000),
    commitToReceiptP50: percentile(sorted, 50),
    commitToReceiptP99: percentile(sorted, 99),
    paced: steady.lags.length,
  };
}
