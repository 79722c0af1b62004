import type { Socket, TCPSocketListener } from 'bun';

/**
 * A loopback TCP proxy in front of PostgreSQL for the database-outage drill: it can stop
 * accepting connections while leaving the open ones alone (so that pg_terminate_backend,
 * not the proxy, is what ends them), and accept again on the same port. Targets
 * 127.0.0.1 only.
 */
export class DbProxy {
  private listener?: TCPSocketListener<unknown>;
  private readonly open = new Set<Socket<unknown>>();
  port = 0;

  constructor(private readonly targetPort: number) {}

  start(port = this.port): void {
    const targetPort = this.targetPort;
    const open = this.open;
    type Data = { upstream?: Socket<unknown>; pending: Uint8Array[] };
    this.listener = Bun.listen<Data>({
      hostname: '127.0.0.1',
      port,
      socket: {
        open(client) {
          client.data = { pending: [] };
          open.add(client as never);
          Bun.connect({
            hostname: '127.0.0.1',
            port: targetPort,
            socket: {
              open(upstream) {
                client.data.upstream = upstream as never;
                open.add(upstream as never);
                for (const chunk of client.data.pending) upstream.write(chunk);
                client.data.pending = [];
              },
              data(_upstream, chunk) {
                client.write(chunk);
              },
              close(upstream) {
                open.delete(upstream as never);
                client.end();
              },
              error() {
                client.end();
              },
            },
          }).catch(() => client.end());
        },
        data(client, chunk) {
          if (client.data.upstream) client.data.upstream.write(chunk);
          else client.data.pending.push(new Uint8Array(chunk));
        },
        close(client) {
          client.data.upstream?.end();
          open.delete(client as never);
        },
        error(client) {
          client.data.upstream?.end();
        },
      },
    }) as never;
    this.port = (this.listener as unknown as { port: number }).port;
  }

  /** New connections are refused from now on; open ones carry on. */
  refuse(): void {
    this.listener?.stop(false);
    this.listener = undefined;
  }

  /** Ends everything (teardown). */
  stop(): void {
    this.refuse();
    for (const socket of this.open) socket.end();
    this.open.clear();
  }
}
