/**
 * A TCP proxy on loopback that a test can partition: `pause()` stops forwarding in both directions on
 * every connection (bytes are held, nothing is closed: a peer sees silence, as behind a cut network),
 * `resume()` lets them flow again; `cut()` closes every connection open now (a peer sees a reset, as when
 * the process at the other end dies), new ones are forwarded as before.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** host:port to dial instead of the target. */
  readonly address: string;
  pause(): void;
  resume(): void;
  cut(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let paused = false;
  const forward = (from: Socket, to: Socket): void => {
    from.on('data', (b: Buffer) => {
      to.write(b);
    });
    from.on('end', () => to.end());
    from.on('error', () => to.destroy());
    from.on('close', () => to.destroy());
  };
  const server: Server = createServer((client) => {
    const upstream = connect(target);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    if (paused) for (const s of pair) s.pause();
    forward(client, upstream);
    forward(upstream, client);
    client.on('close', () => pairs.delete(pair));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    address: `127.0.0.1:${port}`,
    pause: () => {
      paused = true;
      for (const pair of pairs) for (const s of pair) s.pause();
    },
    resume: () => {
      paused = false;
      for (const pair of pairs) for (const s of pair) s.resume();
    },
    cut: () => {
      for (const pair of pairs) for (const s of pair) s.destroy();
      pairs.clear();
    },
    close: async () => {
      for (const pair of pairs) for (const s of pair) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
