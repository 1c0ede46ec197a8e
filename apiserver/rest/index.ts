/**
 * The Kubernetes REST facade (what kubectl talks to), over the same registry and watch cache as gRPC.
 */
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from '../registry.js';
import type { KubeletProxy } from '../kubeletproxy.js';

export interface RestOptions {
  registry: Registry;
  proxy: KubeletProxy;
  log: Logger;
}

export function createRestServer(opts: RestOptions): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    if (path === '/version') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({ major: '1', minor: '30', gitVersion: 'v1.30.0-kubelab', platform: `${process.platform}/${process.arch}` }),
      );
      return;
    }
    void opts;
    res.writeHead(404, { 'content-type': 'application/json' }).end(
      JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'NotFound', code: 404, message: 'the server could not find the requested resource' }),
    );
  });
}
