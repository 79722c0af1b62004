import { describe, expect, test } from 'bun:test';
import postgres from 'postgres';
import { createPostgresDatabase, migrate } from '../../db';
import { createTestApp } from '../helpers/app';
import { createTenant } from '../helpers/auth';
import { TEST_DATABASE_URL } from '../helpers/db';
import { call, card, CARDS, eventually, paymentBody } from '../helpers/payments';
import { TcpProxy } from '../helpers/tcp-proxy';

/**
 * Issue 11, point 16: the real PostgreSQL behind a loopback TCP proxy that the test cuts
 * and restores. While it is cut, API requests answer 503 `database_unavailable` with
 * Retry-After (not 500, and not a hang); once it is back, the same app serves again
 * without a restart.
 */

const SERVER = new URL(TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');

async function serverReachable(): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: SERVER.hostname, port: Number(SERVER.port || 5432), socket: { data() {} } });
    socket.end();
    return true;
  } catch {
    return false;
  }
}

/** Fails the test instead of hanging when an answer does not come within `ms`. */
async function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('database outage', async () => {
  const reachable = await serverReachable();
  if (!reachable) console.warn(`skipping the database outage test: no PostgreSQL at ${SERVER.host}`);

  test.skipIf(!reachable)(
    '503 database_unavailable with Retry-After while the database is cut, served again when it returns',
    async () => {
      const name = `nimbus_outage_api_${process.pid}_${Date.now()}`;
      const admin = postgres(SERVER.toString(), { max: 1, onnotice: () => {} });
      await admin.unsafe(`create database "${name}"`);
      const direct = new URL(SERVER);
      direct.pathname = `/${name}`;
      const migrator = createPostgresDatabase(direct.toString(), { maxConnections: 1 });
      await migrate(migrator);
      await migrator.close();

      const proxy = new TcpProxy(Number(SERVER.port || 5432));
      proxy.start();
      const port = proxy.port;
      const viaProxy = new URL(direct);
      viaProxy.host = `127.0.0.1:${port}`;
      const database = createPostgresDatabase(viaProxy.toString(), { maxConnections: 4 });
      const t = await createTestApp({ database });
      try {
        const acme = await createTenant(t);
        const list = () => within(20_000, call(t, 'GET', '/v1/payments', acme.token));
        const create = () => within(20_000, call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(CARDS.visa))));
        expect((await list()).status).toBe(200);

        proxy.stop();
        for (const answer of [await list(), await create(), await list()]) {
          expect(answer.status).toBe(503);
          expect(answer.body.error).toMatchObject({ type: 'api_error', code: 'database_unavailable' });
          expect(answer.body.error.request_id).toBe(answer.headers.get('x-request-id'));
          expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
          // Nothing of the driver reaches the client.
          expect(answer.text).not.toMatch(/ECONN|CONNECTION_|postgres|select|insert|127\.0\.0\.1/i);
        }
        expect(t.logs.text()).toContain('database unavailable');

        proxy.start(port);
        const back = await eventually(async () => {
          const answer = await list();
          return answer.status === 200 ? answer : undefined;
        }, { timeoutMs: 20_000, stepMs: 200 });
        expect(back.body.object).toBe('list');
        expect((await create()).status).toBe(201);
      } finally {
        proxy.stop();
        await t.close();
        await database.close();
        await admin.unsafe(`drop database if exists "${name}" with (force)`);
        await admin.end();
      }
    },
    90_000,
  );
});
