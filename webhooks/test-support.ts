import type { Server } from 'bun';
import type { Database } from '../db';
import { createEventLog } from '../runtime/events';
import type { EventType } from '../plugins/events/service';
import { fanOutEvent } from './outbox';

/** The event log as a deployment with this plugin has it: every event fans out to the outbox. */
export const recordEvent = createEventLog([fanOutEvent]).record;

/** Test-only helpers: a loopback webhook receiver and a way to write events without the payments code. */

export interface Received {
  headers: Record<string, string>;
  body: string;
  at: number;
}

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** Decides each answer; default 200. `n` counts requests from 1. */
  respond: (request: Request, n: number) => Response | Promise<Response>;
  /** Resolves once `count` requests have arrived (or rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>;
  stop(): void;
}

export function startReceiver(path = '/hook', port = 0): Receiver {
  const received: Received[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  let server: Server<undefined>;
  const receiver: Receiver = {
    url: '',
    port: 0,
    received,
    respond: () => new Response('ok'),
    waitFor: async (count, timeoutMs = 10_000) => {
      if (received.length < count) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`receiver got ${received.length} of ${count} requests within ${timeoutMs} ms`)), timeoutMs);
          waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
        });
      }
      return received;
    },
    stop: () => server.stop(true),
  };
  server = Bun.serve({
    hostname: '127.0.0.1',
    port,
    async fetch(request) {
      const body = await request.text();
      received.push({ headers: Object.fromEntries(request.headers.entries()), body, at: Date.now() });
      const n = received.length;
      // Waiters hear of an arrival at once, even while the answer is held back.
      for (const waiter of [...waiters]) {
        if (received.length >= waiter.count) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
      return receiver.respond(request, n);
    },
  });
  receiver.port = server.port!;
  receiver.url = `http://127.0.0.1:${server.port}${path}`;
  return receiver;
}

let counter = 0;

/** Writes one event as the payments code would: in a tenant transaction, through recordEvent. */
export async function writeEvent(database: Database, tenantId: string, type: EventType = 'payment.succeeded') {
  const objectId = `pay_test${++counter}`;
  return database.tenant(tenantId, (tx) => recordEvent(tx, { tenantId, type, objectId, object: { id: objectId, object: 'payment', amount: 2000 } }));
}

/** Polls `check` until it returns a truthy value (bounded). */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 10_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await Bun.sleep(everyMs);
  }
}
