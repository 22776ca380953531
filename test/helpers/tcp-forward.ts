/**
 * A TCP forwarder in the test process: listens on one local address and pipes each connection to
 * a fixed target. Multi-host tests use it to expose the loopback-only PostgreSQL and Redis on the
 * host-side veth address of a test namespace, without reconfiguring the system services.
 */
import net from 'node:net';

export interface TcpForward {
  host: string;
  port: number;
  /** Connections piped so far. */
  connections(): number;
  /** Stops listening and cuts every open connection. */
  close(): Promise<void>;
}

export async function forwardTcp(listen: { host: string; port?: number }, target: { host: string; port: number }): Promise<TcpForward> {
  const open = new Set<net.Socket>();
  let count = 0;
  const server = net.createServer((client) => {
    count++;
    const upstream = net.connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.setNoDelay(true);
      socket.on('close', () => open.delete(socket));
      // Either side failing ends both; the error itself is the peer's business.
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port ?? 0, listen.host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    host: listen.host,
    port,
    connections: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
