/**
 * A loopback webhook receiver with one path per endpoint. It records, per endpoint, every
 * `webhook-id` it was sent, how often, and a hash of each body, so the drills can tell a
 * re-send (same id, same body) from a real duplicate (same id, another body). It can be
 * made slow or failing, and counts requests in flight.
 */
import { createHash } from 'node:crypto';
import type { Server } from 'bun';

export interface Sighting {
  count: number;
  /** Answers we gave with 2xx (a worker killed mid-request may never read it). */
  ok: number;
  bodies: Set<string>;
  firstAt: number;
}

export interface DrillReceiver {
  url(path: string): string;
  /** endpoint path -> webhook-id -> sighting */
  seen: Map<string, Map<string, Sighting>>;
  total(): number;
  inFlight(): number;
  /** Delay (ms) before answering, and the status to answer; change at any time. */
  behaviour: { delayMs: () => number; status: () => number };
  stop(): void;
}

export function startDrillReceiver(): DrillReceiver {
  const seen = new Map<string, Map<string, Sighting>>();
  let total = 0;
  let inFlight = 0;
  const behaviour = { delayMs: () => 0, status: () => 200 };
  const server: Server<undefined> = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 60,
    async fetch(request) {
      const path = new URL(request.url).pathname;
      const body = await request.text();
      const id = request.headers.get('webhook-id') ?? 'missing';
      total += 1;
      let byId = seen.get(path);
      if (!byId) seen.set(path, (byId = new Map()));
      let sighting = byId.get(id);
      if (!sighting) byId.set(id, (sighting = { count: 0, ok: 0, bodies: new Set(), firstAt: Date.now() }));
      sighting.count += 1;
      sighting.bodies.add(createHash('sha256').update(body).digest('hex').slice(0, 16));
      inFlight += 1;
      try {
        const delay = behaviour.delayMs();
        if (delay > 0) await Bun.sleep(delay);
        const status = behaviour.status();
        if (status >= 200 && status < 300) sighting.ok += 1;
        return new Response('ok', { status });
      } finally {
        inFlight -= 1;
      }
    },
  });
  return {
    url: (path) => `http://127.0.0.1:${server.port}${path}`,
    seen,
    total: () => total,
    inFlight: () => inFlight,
    behaviour,
    stop: () => server.stop(true),
  };
}
