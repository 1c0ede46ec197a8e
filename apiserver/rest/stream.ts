/**
 * Pod streaming subresources, proxied to the kubelet of the pod's node:
 * - `pods/log` (plain HTTP, chunked) → kubelet `GET /containerLogs/{ns}/{pod}/{container}?…`;
 * - `pods/exec`, `pods/attach`, `pods/portforward` (a WebSocket upgrade with any channel.k8s.io
 *   subprotocol or SPDY tunnelled in it, or an `Upgrade: SPDY/3.1` from kubectl ≤ 1.30) → kubelet
 *   `/exec/{ns}/{pod}/{container}`, `/attach/…`, `/portForward/{ns}/{pod}`.
 *   The upgrade is relayed as raw bytes in both directions (as kube-apiserver's upgrade-aware proxy
 *   does), so whatever subprotocol the client and kubelet agree on passes through unchanged.
 *
 * The client's query is first read as kube-apiserver reads Pod{Exec,Attach,PortForward,Log}Options
 * (booleans by apimachinery's query conversion, integers as int64: see params.ts) and re-spelt for the
 * kubelet (`stdin=1`, `port=N`), so the kubelet sees one spelling whatever the client.
 *
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError, badRequest } from '../../api/errors.js';
import type { core } from '../../api/types.js';
import { defaultContainer, kubeletUrlFor } from '../kubeletproxy.js';
import type { Registry } from '../registry.js';
import { requestAttributes } from '../auth/attributes.js';
import { isAnonymous, isPublicInfoPath, unauthorized } from '../auth/authn.js';
import { peerCertificateOf, type RestOptions } from './index.js';
import { boolParam, canonicalStreamQuery, requestUrl } from './params.js';
import { parsePath } from './route.js';

export interface StreamTarget {
  namespace: string;
  name: string;
  subresource: string;
  /** The options in the kubelet's spelling (kubeletQuery). */
  query: URLSearchParams;
}

/** Where the pod's kubelet listens (the shared helper, on this server's own registry). */
async function kubeletBase(registry: Registry, namespace: string, pod: string): Promise<URL> {
  return new URL((await kubeletUrlFor(registry, namespace, pod)).base);
}

const STREAM_FLAGS = ['stdin', 'stdout', 'stderr', 'tty'] as const;
const LOG_FLAGS = ['follow', 'previous', 'timestamps'] as const;

/**
 * The kubelet's query for a client's streaming request, as kube-apiserver builds it: exec/attach flags
 * become `1` (absent or false: left out), at least one stream is required, exec needs a command;
 * port-forward's `ports` become the kubelet's `port`; log flags become `true`. Throws BadRequest naming
 * the parameter.
 */
export function kubeletQuery(subresource: string, query: URLSearchParams): URLSearchParams {
  // Integers and times are checked (400 naming the parameter) and booleans spelt true/false first.
  const q = canonicalStreamQuery(subresource, query);
  const bools = (names: readonly string[], on: string): Record<string, boolean> => {
    const out: Record<string, boolean> = {};
    for (const n of names) {
      out[n] = boolParam(q, n) ?? false;
      q.delete(n);
      if (out[n]) q.set(n, on);
    }
    return out;
  };
  if (subresource === 'exec' || subresource === 'attach') {
    const f = bools(STREAM_FLAGS, '1');
    if (!f.stdin && !f.stdout && !f.stderr) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
    if (subresource === 'exec' && q.getAll('command').length === 0) throw badRequest('you must specify at least one command for the container');
  } else if (subresource === 'portforward') {
    for (const p of q.getAll('ports')) q.append('port', p);
    q.delete('ports');
  } else if (subresource === 'log') {
    bools(LOG_FLAGS, 'true');
  }
  return q;
}

/** The kubelet's URL path for a target whose query is already in the kubelet's spelling (kubeletQuery). */
async function kubeletPath(registry: Registry, t: StreamTarget): Promise<string> {
  const q = new URLSearchParams(t.query);
  const ns = encodeURIComponent(t.namespace);
  const pod = encodeURIComponent(t.name);
  if (t.subresource === 'portforward') return `/portForward/${ns}/${pod}?${q.toString()}`;
  const container = encodeURIComponent(await defaultContainer(registry, t.namespace, t.name, q.get('container')));
  q.delete('container');
  const prefix = t.subresource === 'log' ? 'containerLogs' : t.subresource;
  const qs = q.toString();
  return `/${prefix}/${ns}/${pod}/${container}${qs ? `?${qs}` : ''}`;
}

/** Non-upgrade requests: logs are proxied; exec/attach/portforward without an upgrade are refused. */
export async function handleStreamRequest(opts: RestOptions, req: IncomingMessage, res: ServerResponse, t: StreamTarget): Promise<void> {
  if (t.subresource !== 'log') throw badRequest(`Upgrade request required: ${t.subresource} needs a WebSocket connection`);
  if (req.method !== 'GET') throw new ApiError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
  await opts.registry.get('pods', t.namespace, t.name);
  const base = await kubeletBase(opts.registry, t.namespace, t.name);
  const path = await kubeletPath(opts.registry, t);
  await new Promise<void>((resolve, reject) => {
    const up = opts.proxy.request({ host: base.hostname, port: base.port, path, method: 'GET', headers: { accept: '*/*' } }, (upRes) => {
      const headers: Record<string, string> = { 'content-type': upRes.headers['content-type'] ?? 'text/plain', 'cache-control': 'no-cache, private' };
      res.writeHead(upRes.statusCode ?? 502, headers);
      res.flushHeaders();
      upRes.pipe(res);
      upRes.on('end', resolve);
      upRes.on('error', reject);
    });
    up.on('error', (err) => reject(new ApiError('ServiceUnavailable', `error dialing the kubelet of pod ${t.name}: ${err.message}`)));
    // A client that stops following (Ctrl-C on `logs -f`) ends the kubelet stream too.
    res.on('close', () => {
      up.destroy();
      resolve();
    });
    up.end();
  });
}

function writeStatus(socket: Duplex, err: ApiError): void {
  const body = JSON.stringify(err.toStatus());
  socket.end(`HTTP/1.1 ${err.code} ${err.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** Upgrade requests (exec/attach/portforward): relayed byte for byte to the kubelet. */
export async function handleStreamUpgrade(opts: RestOptions, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  socket.on('error', () => socket.destroy());
  try {
    const url = requestUrl(req);
    const user = await opts.security.authenticate(req.headers.authorization, peerCertificateOf(req));
    if (isAnonymous(user) && opts.security.authorizer.alwaysAllow && !isPublicInfoPath(url.pathname)) throw unauthorized();
    const attrs = requestAttributes(user, req.method ?? 'GET', url.pathname, url.searchParams);
    opts.security.authorize(attrs);
    // A WebSocket upgrade is a GET; exec/attach/portforward also need `create`, as kube-apiserver's
    // AuthorizePodWebsocketUpgradeCreatePermission checks, so a read-only role cannot run commands.
    if (attrs.verb !== 'create') opts.security.authorize({ ...attrs, verb: 'create' });
    const route = parsePath(url.pathname);
    if (route.kind !== 'resource' || route.info.resource !== 'pods' || !['exec', 'attach', 'portforward'].includes(route.subresource))
      throw new ApiError('NotFound', 'the server could not find the requested resource');
    const t = { namespace: route.namespace, name: route.name, subresource: route.subresource, query: kubeletQuery(route.subresource, url.searchParams) };
    await opts.registry.get('pods', t.namespace, t.name);
    // Resolve first: kubectl falls back from WebSocket to SPDY on any failure, so the real reason
    // (no such pod, not scheduled yet) must also be what the SPDY attempt reports.
    const base = await kubeletBase(opts.registry, t.namespace, t.name);
    const path = await kubeletPath(opts.registry, t);
    const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
    if (upgrade !== 'websocket' && upgrade !== 'spdy/3.1')
      throw badRequest(`${route.subresource} needs an upgrade to WebSocket or SPDY/3.1; "${req.headers.upgrade}" is not supported`);
    const upstream = await opts.proxy.connect(base.hostname, Number(base.port) || 10250).catch((err: Error) => {
      throw new ApiError('ServiceUnavailable', `error dialing the kubelet of pod ${t.name}: ${err.message}`);
    });
    // kubectl ≤ 1.29 POSTs its SPDY exec/attach upgrade; the kubelet takes either method.
    const lines = [`${req.method ?? 'GET'} ${path} HTTP/1.1`, `Host: ${base.host}`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const k = req.rawHeaders[i];
      if (k.toLowerCase() === 'host' || k.toLowerCase() === 'authorization') continue;
      lines.push(`${k}: ${req.rawHeaders[i + 1]}`);
    }
    upstream.write(lines.join('\r\n') + '\r\n\r\n');
    if (head.length) upstream.write(head);
    upstream.on('error', () => socket.destroy());
    upstream.on('close', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
    socket.pipe(upstream);
    upstream.pipe(socket);
    opts.log.debug({ pod: `${t.namespace}/${t.name}`, subresource: t.subresource, kubelet: base.host }, 'stream proxied to kubelet');
  } catch (err) {
    const apiErr = err instanceof ApiError ? err : new ApiError('InternalError', (err as Error).message);
    writeStatus(socket, apiErr);
  }
}
