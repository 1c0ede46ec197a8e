/**
 * The admin HTTP endpoint every component serves: `/healthz`, `/readyz` and `/metrics` (prom-client).
 */
import { createServer, type Server } from 'node:http';
import { Registry, collectDefaultMetrics } from 'prom-client';

export interface AdminOptions {
  port: number;
  host?: string;
  /** Reports health; a string is the reason it is unhealthy. */
  healthy?: () => true | string;
  ready?: () => true | string;
  registry?: Registry;
}

export interface AdminServer {
  readonly port: number;
  readonly registry: Registry;
  close(): Promise<void>;
}

export function newMetricsRegistry(component: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ component });
  collectDefaultMetrics({ register: registry });
  return registry;
}

export async function startAdminServer(opts: AdminOptions): Promise<AdminServer> {
  const registry = opts.registry ?? new Registry();
  const check = (fn?: () => true | string): [number, string] => {
    const r = fn ? fn() : true;
    return r === true ? [200, 'ok'] : [503, r];
  };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' || path === '/livez') {
      const [code, body] = check(opts.healthy);
      res.writeHead(code, { 'content-type': 'text/plain' }).end(body);
    } else if (path === '/readyz') {
      const [code, body] = check(opts.ready ?? opts.healthy);
      res.writeHead(code, { 'content-type': 'text/plain' }).end(body);
    } else if (path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    } else {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    port,
    registry,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
