/**
 * A loopback HTTP proxy between a connector and its test server that can delay or fail
 * what passes, for fault tests. `delay` forwards the request at once (the server acts)
 * and holds the answer back, so a connector with a shorter timeout never sees it: the
 * "request arrived, answer lost" case. `fail` answers itself without forwarding, like a
 * load balancer in front of an unhealthy service. Only ever targets 127.0.0.1.
 */
export type FaultMode = { kind: 'pass' } | { kind: 'delay'; ms: number } | { kind: 'fail'; status: number; headers?: Record<string, string> };

/** Which requests a mode applies to (default: all); the others pass. */
export type FaultMatch = (request: { method: string; path: string; body: string }) => boolean;

export async function startFaultProxy(target: string) {
  const upstream = new URL(target);
  if (upstream.hostname !== '127.0.0.1') throw new Error('The fault proxy only forwards to 127.0.0.1.');
  let mode: FaultMode = { kind: 'pass' };
  let match: FaultMatch = () => true;
  const seen: Array<{ method: string; path: string; mode: FaultMode['kind'] }> = [];
  const pending = new Set<Promise<unknown>>();

  async function forward(request: Request, body: string | undefined): Promise<Response> {
    const url = new URL(request.url);
    const answer = await fetch(`${upstream.origin}${url.pathname}${url.search}`, { method: request.method, headers: request.headers, body });
    return new Response(await answer.arrayBuffer(), { status: answer.status, headers: answer.headers });
  }

  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(request) {
      const path = new URL(request.url).pathname;
      const handled = (async () => {
        const body = request.method === 'GET' ? undefined : await request.text();
        const current = match({ method: request.method, path, body: body ?? '' }) ? mode : ({ kind: 'pass' } as const);
        seen.push({ method: request.method, path, mode: current.kind });
        switch (current.kind) {
          case 'pass':
            return forward(request, body);
          case 'delay': {
            const response = await forward(request, body);
            await Bun.sleep(current.ms);
            return response;
          }
          case 'fail':
            return Response.json({ error: { type: 'api_error', message: 'Injected by the fault proxy.' } }, { status: current.status, headers: current.headers });
        }
      })();
      pending.add(handled);
      void handled.finally(() => pending.delete(handled)).catch(() => undefined);
      return handled;
    },
  });

  return {
    url: `http://127.0.0.1:${server.port}`,
    /** Every request that reached the proxy, with the mode it met. */
    seen,
    setMode(next: FaultMode, only: FaultMatch = () => true): void {
      mode = next;
      match = only;
    },
    /** Resolves when every request the proxy holds has been answered (delays are bounded). */
    async drain(): Promise<void> {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    async stop(): Promise<void> {
      await this.drain();
      await server.stop(true);
    },
  };
}

export type FaultProxy = Awaited<ReturnType<typeof startFaultProxy>>;
