import type { Socket, TCPSocketListener } from 'bun';

/**
 * A loopback TCP proxy that can be cut and restored, to show the app surviving a
 * database outage without a restart. Only ever targets 127.0.0.1. It also counts the
 * client's flights: writes that follow an answer from the server, a round trip each.
 */
export class TcpProxy {
  private listener?: TCPSocketListener<{ upstream?: Socket<unknown> }>;
  private readonly open = new Set<Socket<unknown>>();
  port = 0;
  /** Round trips the clients began, over every connection so far. */
  flights = 0;

  constructor(private readonly targetPort: number) {}

  start(port = 0): void {
    const targetPort = this.targetPort;
    const open = this.open;
    const proxy = this;
    this.listener = Bun.listen<{ upstream?: Socket<unknown>; pending: Uint8Array[]; answered: boolean }>({
      hostname: '127.0.0.1',
      port,
      socket: {
        open(client) {
          client.data = { pending: [], answered: true };
          open.add(client as never);
          Bun.connect({
            hostname: '127.0.0.1',
            port: targetPort,
            socket: {
              open(upstream) {
                client.data.upstream = upstream as never;
                open.add(upstream as never);
                for (const chunk of client.data.pending) upstream.write(chunk);
              },
              data(_upstream, chunk) {
                client.data.answered = true;
                client.write(chunk);
              },
              close() {
                client.end();
              },
              error() {
                client.end();
              },
            },
          }).catch(() => client.end());
        },
        data(client, chunk) {
          if (client.data.answered) proxy.flights += 1;
          client.data.answered = false;
          if (client.data.upstream) client.data.upstream.write(chunk);
          else client.data.pending.push(new Uint8Array(chunk));
        },
        close(client) {
          client.data.upstream?.end();
          open.delete(client as never);
        },
      },
    }) as never;
    this.port = (this.listener as unknown as { port: number }).port;
  }

  /** Stops listening and cuts every open connection, like a database going away. */
  stop(): void {
    this.listener?.stop(true);
    for (const socket of this.open) socket.end();
    this.open.clear();
  }
}
