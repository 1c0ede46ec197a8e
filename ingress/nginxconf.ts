/**
 * nginx.conf from a Model, as a pure function: the same model always gives the same text, so the
 * controller reloads nginx only when the text changed. Every value that came from an API object is
 * either a DNS name, an IPv4 address, a number or a SAFE_PATH (model.ts checked them), so nothing an
 * Ingress says can close a block or start a directive.
 */
import type { Location, Model, Server } from './model.js';

export interface RenderOptions {
  httpPort: number;
  httpsPort: number;
  /** Directory of the certificate files (`<key>.pem`) and the default certificate `default.pem`. */
  certDir: string;
  pidFile: string;
  /** nginx worker processes ('auto': one per core). */
  workerProcesses: number | 'auto';
}

/** `*.example.com` matches exactly one more label in Kubernetes; nginx's `*.` form would match several. */
function serverName(host: string): string {
  if (host === '') return '_';
  if (host.startsWith('*.')) return `~^[^.]+${host.slice(1).replace(/\./g, '\\.')}$`;
  return host;
}

function location(l: Location): string {
  const lines = [`    location ${l.match} {`];
  if ('upstream' in l.target) {
    lines.push(`      proxy_pass http://${l.target.upstream};`);
  } else if (l.target.status === 404) {
    lines.push('      default_type text/plain;', '      return 404 "default backend - 404\\n";');
  } else {
    lines.push('      default_type text/plain;', `      return 503 "503 Service Temporarily Unavailable (${l.target.reason})\\n";`);
  }
  lines.push('    }');
  return lines.join('\n');
}

function server(s: Server, o: RenderOptions): string {
  const def = s.host === '' ? ' default_server' : '';
  const cert = `${o.certDir}/${s.tlsCert ?? 'default'}.pem`;
  return [
    '  server {',
    `    listen ${o.httpPort}${def};`,
    `    listen ${o.httpsPort} ssl${def};`,
    `    server_name ${serverName(s.host)};`,
    `    ssl_certificate ${cert};`,
    `    ssl_certificate_key ${cert};`,
    ...s.locations.map(location),
    '  }',
  ].join('\n');
}

/**
 * Upstreams as ingress-nginx writes them (upstream-max-fails 0): an endpoint is never taken out for a
 * failed request — with `max_fails=1 fail_timeout=10s` one reset from a Service's only pod answered every
 * request 503 "no live upstreams" for 10 s (146 × 503 in the README's autoscale walkthrough). Endpoints come
 * and go through the EndpointSlices instead, and `proxy_next_upstream` retries a refused connection on the
 * next one. Idle keep-alive connections are dropped after 4 s, before a Node backend's 5 s default
 * closes them: reusing one the backend is closing is a reset in the middle of a request.
 */
export function renderNginxConf(model: Model, o: RenderOptions): string {
  const upstreams = model.upstreams
    .filter((u) => u.endpoints.length > 0)
    .map((u) => [`  upstream ${u.name} {`, ...u.endpoints.map((e) => `    server ${e.ip}:${e.port} max_fails=0;`), '    keepalive 32;', '    keepalive_timeout 4s;', '  }'].join('\n'));
  return `# Written by the kubelab ingress controller; every change is replaced on the next sync.
worker_processes ${o.workerProcesses};
pid ${o.pidFile};
error_log stderr warn;
events {
  worker_connections 4096;
}
http {
  access_log off;
  server_tokens off;
  sendfile on;
  tcp_nodelay on;
  keepalive_timeout 75s;
  keepalive_requests 1000;
  client_max_body_size 1m;
  server_names_hash_bucket_size 128;
  server_names_hash_max_size 4096;
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_session_cache shared:SSL:10m;
  map $http_upgrade $connection_upgrade {
    default upgrade;
    '' '';
  }
  proxy_http_version 1.1;
  proxy_set_header Host $host;
  proxy_set_header Upgrade $http_upgrade;
  proxy_set_header Connection $connection_upgrade;
  proxy_set_header X-Real-IP $remote_addr;
  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
  proxy_set_header X-Forwarded-Host $host;
  proxy_set_header X-Forwarded-Proto $scheme;
  proxy_connect_timeout 5s;
  proxy_read_timeout 60s;
  proxy_send_timeout 60s;
  # ingress-nginx's defaults: a refused or timed-out connection tries the next endpoint (3 tries), so an
  # endpoint that went away before the controller heard of it costs a retry, not a 502.
  proxy_next_upstream error timeout;
  proxy_next_upstream_tries 3;
  proxy_buffering on;
${upstreams.join('\n')}
${model.servers.map((s) => server(s, o)).join('\n')}
}
`;
}
