/**
 * Pathological JSON benchmark: bodies that are small (well under the 64 KiB limit) but
 * deeply nested or very wide, sent through the real app (nimbus.config.ts, embedded
 * PGlite, a real tenant token) to POST /v1/payments. Prints the server's time to answer
 * each one next to the cost of a bare JSON.parse of the same text, so any time our own
 * code adds shows up as the difference.
 *
 *   bun bench/pathological-json.ts
 *
 * Knobs: BENCH_DEPTH (nesting of the deep bodies, 20000), BENCH_REPEAT (requests per
 * body, best taken, 3).
 */
import nimbusConfig from '../nimbus.config';
import { createPgliteDatabase, migrate } from '../db';
import { createPlatformClient } from '../plugins/tenancy/service';
import { loadConfig } from '../runtime/config';
import { silentLogger } from '../runtime/logger';
import { createMetrics } from '../runtime/metrics';
import { createNimbus } from '../runtime/nimbus';

const DEPTH = Number(process.env.BENCH_DEPTH ?? 20_000);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);

const BODIES: Record<string, string> = {
  [`${DEPTH} nested arrays`]: '['.repeat(DEPTH) + ']'.repeat(DEPTH),
  [`${Math.floor(DEPTH / 3)} nested objects`]: '{"a":'.repeat(Math.floor(DEPTH / 3)) + '1' + '}'.repeat(Math.floor(DEPTH / 3)),
  // The worst shape the limits still let through: 32 levels deep, close to 10000 values.
  '300 arrays 31 deep (within limits)': `[${Array.from({ length: 300 }, () => '['.repeat(31) + ']'.repeat(31)).join(',')}]`,
  'flat array of 30000 numbers': `[${Array.from({ length: 30_000 }, () => '1').join(',')}]`,
  'object with 6000 keys': `{${Array.from({ length: 6_000 }, (_, i) => `"k${i}":1`).join(',')}}`,
  'metadata with 5000 keys': `{"amount":1,"currency":"EUR","metadata":{${Array.from({ length: 5_000 }, (_, i) => `"k${i}":"v"`).join(',')}}}`,
  'an ordinary payment (for scale)': JSON.stringify({
    amount: 2000,
    currency: 'EUR',
    payment_method: { type: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2040, cvc: '123' } },
    metadata: { order_id: '1234' },
  }),
};

async function token(app: { handle(request: Request): Promise<Response> }, clientId: string, secret: string): Promise<string> {
  const response = await app.handle(
    new Request('http://localhost/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` },
      body: 'grant_type=client_credentials',
    }),
  );
  const body = (await response.json()) as { access_token: string };
  return body.access_token;
}

async function main(): Promise<void> {
  const database = createPgliteDatabase();
  await migrate(database);
  const env = { NIMBUS_ENV: 'development', LOG_LEVEL: 'silent' };
  const nimbus = createNimbus(nimbusConfig, { config: loadConfig(env), env, logger: silentLogger, metrics: createMetrics(), database });
  const app = nimbus.createApp();
  const admin = await createPlatformClient(database, { name: 'bench admin' });
  const created = await app.handle(
    new Request('http://localhost/v1/tenants', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await token(app, admin.id, admin.secret)}` },
      body: JSON.stringify({ name: 'Bench' }),
    }),
  );
  const tenant = (await created.json()) as { client: { id: string; secret: string } };
  const bearer = `Bearer ${await token(app, tenant.client.id, tenant.client.secret)}`;

  console.log(`pathological JSON benchmark: POST /v1/payments in-process, embedded PGlite, best of ${REPEAT}`);
  for (const [label, text] of Object.entries(BODIES)) {
    const parseStart = performance.now();
    JSON.parse(text);
    const parseMs = performance.now() - parseStart;
    let best = Infinity;
    let answer = '';
    for (let i = 0; i < REPEAT; i++) {
      const start = performance.now();
      const response = await app.handle(
        new Request('http://localhost/v1/payments', { method: 'POST', headers: { 'content-type': 'application/json', authorization: bearer }, body: text }),
      );
      const body = (await response.json()) as { error?: { code: string } };
      best = Math.min(best, performance.now() - start);
      answer = `${response.status} ${body.error?.code ?? ''}`.trim();
    }
    const size = `${(Buffer.byteLength(text) / 1024).toFixed(1)} KiB`;
    console.log(`${label.padEnd(36)} ${size.padStart(9)}  answer ${answer.padEnd(28)} ${best.toFixed(1).padStart(9)} ms  (JSON.parse alone ${parseMs.toFixed(1)} ms)`);
  }
  await database.close();
  process.exit(0);
}

await main();
