/**
 * The kubelet's own HTTP server (`--port`, 10250): container logs, exec, attach and port-forward for
 * the apiserver.
 *   GET /containerLogs/{ns}/{pod}/{container}?follow=&tailLines=&previous=&timestamps=&sinceSeconds=
 *   GET /exec/{ns}/{pod}/{container}?command=..&command=..&stdin=&stdout=&stderr=&tty=   (WebSocket)
 *   GET /attach/{ns}/{pod}/{container}?stdin=&stdout=&stderr=&tty=                       (WebSocket)
 *   GET /portForward/{ns}/{pod}                        (WebSocket, SPDY/3.1+portforward.k8s.io)
 * Exec and attach speak Kubernetes' remote-command protocols v5.channel.k8s.io / v4.channel.k8s.io: every
 * binary frame starts with a channel byte (0 stdin, 1 stdout, 2 stderr, 3 error/status, 4 resize;
 * v5: 255 close). Port-forward carries SPDY inside the WebSocket (see portforward.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { core } from '../client/types.js';
import { PORTFORWARD_PROTOCOL, servePortForward } from './portforward.js';
import { SANDBOX, type ExecProcess, type Runtime, type RuntimeContainer } from './runtime/types.js';

export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

export interface KubeletServerOptions {
  port: number;
  host?: string;
  runtime: Runtime;
  /** The desired pod by namespace/name (to default the container name). */
  lookupPod: (namespace: string, name: string) => core.Pod | undefined;
  /** Where hostNetwork pods listen (the node's IP, as probes use); default 127.0.0.1. */
  nodeIp?: string;
  log: Logger;
}

export interface KubeletServer {
  readonly port: number;
  close(): Promise<void>;
}

/** The exit status a kubectl client expects on channel 3. */
export function exitStatus(code: number, command: string[]): Record<string, unknown> {
  if (code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

function failure(message: string, reason = 'InternalError', code = 500): Record<string, unknown> {
  return { metadata: {}, status: 'Failure', message, reason, code };
}

class HttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** decodeURIComponent for a path segment: a malformed escape (`%ZZ`) is the client's error, 400. */
function segment(raw: string, what: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, `malformed ${what} in the request path: "${raw}"`);
  }
}

/** Ends a raw upgrade socket with an HTTP error (the connection was never a WebSocket). */
function refuseUpgrade(socket: Duplex, code: number, message: string): void {
  if (socket.destroyed || !socket.writable) return;
  const reason = code === 400 ? 'Bad Request' : code === 404 ? 'Not Found' : 'Error';
  socket.end(`HTTP/1.1 ${code} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message)}\r\nConnection: close\r\n\r\n${message}`);
}

async function findContainer(o: KubeletServerOptions, ns: string, pod: string, container: string, previous: boolean): Promise<RuntimeContainer> {
  let name = container;
  if (!name) {
    const spec = o.lookupPod(ns, pod)?.spec;
    if (!spec) throw new HttpError(404, `pod "${pod}" not found on this node`);
    if (spec.containers.length !== 1)
      throw new HttpError(400, `a container name must be specified for pod ${pod}, choose one of: [${spec.containers.map((c) => c.name).join(' ')}]`);
    name = spec.containers[0].name;
  }
  const all = (await o.runtime.list()).filter((c) => c.namespace === ns && c.podName === pod && c.name !== SANDBOX);
  if (all.length === 0) throw new HttpError(404, `pod "${pod}" in namespace "${ns}" has no containers on this node`);
  const mine = all.filter((c) => c.name === name).sort((a, b) => b.attempt - a.attempt || b.createdAt - a.createdAt);
  const hit = previous ? mine[1] : mine[0];
  if (!hit) {
    if (previous) throw new HttpError(400, `previous terminated container "${name}" in pod "${pod}" not found`);
    throw new HttpError(400, `container ${name} is not valid for pod ${pod}`);
  }
  return hit;
}

export async function startKubeletServer(o: KubeletServerOptions): Promise<KubeletServer> {
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols, req) => {
      if ((req.url ?? '').startsWith('/portForward/')) return protocols.has(PORTFORWARD_TOKEN) ? PORTFORWARD_PROTOCOL : false;
      return EXEC_PROTOCOLS.find((p) => protocols.has(p)) ?? false;
    },
  });
  const server: Server = createServer((req, res) => {
    handleHttp(o, req, res).catch((err: unknown) => {
      const code = err instanceof HttpError ? err.code : 500;
      if (!res.headersSent) res.writeHead(code, { 'content-type': 'text/plain' });
      res.end(err instanceof Error ? err.message : String(err));
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // One bad peer costs only its own connection: a reset or a write after close must not reach the process.
    socket.on('error', (err) => o.log.debug({ err: err.message, url: req.url }, 'upgrade socket error'));
    try {
      routeUpgrade(o, wss, req, socket, head);
    } catch (err) {
      const code = err instanceof HttpError ? err.code : 500;
      if (code >= 500) o.log.warn({ err: (err as Error).message, url: req.url }, 'upgrade failed');
      refuseUpgrade(socket, code, err instanceof Error ? err.message : String(err));
    }
  });
  server.on('clientError', (err, socket) => {
    o.log.debug({ err: err.message }, 'malformed HTTP request');
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '0.0.0.0', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  return {
    port,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function routeUpgrade(o: KubeletServerOptions, wss: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://kubelet');
  } catch {
    throw new HttpError(400, 'malformed request URL');
  }
  const pf = url.pathname.match(/^\/portForward\/([^/]+)\/([^/]+)$/);
  if (pf) {
    const ns = segment(pf[1], 'namespace');
    const pod = segment(pf[2], 'pod name');
    upgradePortForward(o, wss, req, socket, head, ns, pod).catch((err: unknown) => {
      const code = err instanceof HttpError ? err.code : 500;
      refuseUpgrade(socket, code, err instanceof Error ? err.message : String(err));
    });
    return;
  }
  const m = url.pathname.match(/^\/(exec|attach)\/([^/]+)\/([^/]+)\/([^/]*)$/);
  if (!m) throw new HttpError(404, 'not found');
  const kind = m[1] as 'exec' | 'attach';
  const [ns, pod, container] = [segment(m[2], 'namespace'), segment(m[3], 'pod name'), segment(m[4], 'container name')];
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on('error', (err) => o.log.debug({ err: err.message, kind, pod: `${ns}/${pod}` }, 'remote command connection error'));
    handleRemoteCommand(o, kind, ws, ns, pod, container, url.searchParams).catch((err: unknown) => {
      o.log.warn({ err: (err as Error).message, kind }, 'remote command failed');
      if (ws.readyState === ws.OPEN) {
        ws.send(Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify(failure((err as Error).message)))]));
        ws.close(1000);
      }
    });
  });
}

async function handleHttp(o: KubeletServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://kubelet');
  if (url.pathname === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  const m = url.pathname.match(/^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]*)$/);
  if (!m || req.method !== 'GET') throw new HttpError(404, 'not found');
  const q = url.searchParams;
  const bool = (k: string): boolean => q.get(k) === 'true' || q.get(k) === '1';
  const c = await findContainer(o, segment(m[1], 'namespace'), segment(m[2], 'pod name'), segment(m[3], 'container name'), bool('previous'));
  const tail = q.get('tailLines');
  const since = q.get('sinceSeconds');
  const stream = await o.runtime.logs(c.id, {
    follow: bool('follow') && !bool('previous'),
    timestamps: bool('timestamps'),
    ...(tail !== null && tail !== '' && Number(tail) >= 0 ? { tailLines: Number(tail) } : {}),
    ...(since ? { sinceSeconds: Number(since) } : {}),
  });
  res.on('error', () => stream.destroy());
  res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
  res.flushHeaders();
  stream.on('data', (b: Buffer) => res.write(b));
  stream.on('end', () => res.end());
  stream.on('error', () => res.end());
  req.on('close', () => stream.destroy());
}

/** Where the pod's ports are reachable from the kubelet: its sandbox IP (the node's own for hostNetwork). */
async function podTarget(o: KubeletServerOptions, ns: string, pod: string): Promise<{ host: string; uid: string }> {
  const desired = o.lookupPod(ns, pod);
  const sandbox = (await o.runtime.list()).find((c) => c.namespace === ns && c.podName === pod && c.name === SANDBOX && c.state === 'running');
  if (!sandbox) throw new HttpError(404, `pod "${pod}" in namespace "${ns}" is not running on this node`);
  const uid = desired?.metadata?.uid ?? sandbox.podUid;
  if (desired?.spec?.hostNetwork) return { host: o.nodeIp ?? '127.0.0.1', uid };
  if (!sandbox.ip) throw new HttpError(500, `pod "${pod}" has no IP address`);
  return { host: sandbox.ip, uid };
}

/**
 * `SPDY/3.1+portforward.k8s.io` is not an RFC 7230 token ('/'), which ws refuses to parse; the offer is
 * swapped for this token before the handshake and the real name is answered (as Go clients expect).
 */
const PORTFORWARD_TOKEN = 'kubelab-spdy-portforward';

async function upgradePortForward(o: KubeletServerOptions, wss: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer, ns: string, pod: string): Promise<void> {
  const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  if (!offered.includes(PORTFORWARD_PROTOCOL)) throw new HttpError(400, `port-forward needs the WebSocket subprotocol ${PORTFORWARD_PROTOCOL}`);
  req.headers['sec-websocket-protocol'] = PORTFORWARD_TOKEN;
  // Resolve before upgrading, so a missing pod is an HTTP error kubectl can print.
  const target = await podTarget(o, ns, pod);
  const dial = (port: number): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const s = connect({ host: target.host, port });
      s.once('connect', () => {
        s.removeListener('error', reject);
        resolve(s);
      });
      s.once('error', reject);
    });
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on('error', (err) => o.log.debug({ err: err.message, pod: `${ns}/${pod}` }, 'port-forward connection error'));
    o.log.debug({ pod: `${ns}/${pod}`, target: target.host }, 'port-forward started');
    servePortForward(ws, { dial, podName: pod, podUid: target.uid, log: o.log });
  });
}

function parseResize(frame: Buffer): { rows: number; cols: number } | undefined {
  if (frame[0] !== 4) return undefined;
  try {
    const size = JSON.parse(frame.subarray(1).toString()) as { Width?: number; Height?: number };
    if (size.Width && size.Height) return { rows: size.Height, cols: size.Width };
  } catch {
    /* not a size */
  }
  return undefined;
}

/**
 * The terminal size kubectl sends right after connecting, so a TTY process starts with it; a client
 * that sends none within a short wait starts with the runtime's default.
 */
async function firstResize(early: Buffer[], ws: WebSocket, waitMs = 500): Promise<{ rows: number; cols: number } | undefined> {
  for (const b of early) {
    const s = parseResize(b);
    if (s) return s;
  }
  return new Promise((resolve) => {
    const done = (s: { rows: number; cols: number } | undefined): void => {
      clearTimeout(timer);
      ws.off('message', onMsg);
      ws.off('close', onClose);
      resolve(s);
    };
    const onMsg = (raw: Buffer | ArrayBuffer | Buffer[]): void => {
      const buf = Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw);
      const s = parseResize(buf);
      if (s) done(s);
    };
    const onClose = (): void => done(undefined);
    const timer = setTimeout(() => done(undefined), waitMs);
    ws.on('message', onMsg);
    ws.on('close', onClose);
  });
}

/** exec and attach: the same remote-command protocol around a runtime process or the container's own stdio. */
async function handleRemoteCommand(
  o: KubeletServerOptions,
  kind: 'exec' | 'attach',
  ws: WebSocket,
  ns: string,
  pod: string,
  container: string,
  q: URLSearchParams,
): Promise<void> {
  const command = q.getAll('command');
  const on = (k: string): boolean => q.get(k) === 'true' || q.get(k) === '1';
  const tty = on('tty');
  const wantStdin = on('stdin');
  const wantStdout = q.get('stdout') === null ? true : on('stdout');
  const wantStderr = q.get('stderr') === null ? !tty : on('stderr') && !tty;
  const v5 = ws.protocol === 'v5.channel.k8s.io';
  // Frames may arrive before the process exists: hold them until it does.
  const early: Buffer[] = [];
  let onFrame: ((buf: Buffer) => void) | undefined;
  ws.on('message', (raw: Buffer | ArrayBuffer | Buffer[]) => {
    const buf = Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw);
    if (onFrame) onFrame(buf);
    else early.push(buf);
  });
  if (kind === 'exec' && command.length === 0) throw new Error('you must specify at least one command for the container');
  const c = await findContainer(o, ns, pod, container, false);
  if (c.state !== 'running') throw new Error(`container ${c.name} is not running`);
  let proc: ExecProcess;
  if (kind === 'exec') {
    const size = tty ? await firstResize(early, ws) : undefined;
    proc = await o.runtime.execInteractive(c.id, command, { stdin: wantStdin, tty, ...(size ? { size } : {}) });
  } else if (o.runtime.attach) proc = await o.runtime.attach(c.id, { stdin: wantStdin });
  else throw new Error(`attach is not supported by the ${o.runtime.kind} runtime`);
  const send = (ch: number, data: Buffer): void => {
    if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([ch]), data]));
  };
  proc.stdout.on('data', (b: Buffer) => wantStdout && send(1, b));
  // A TTY merges stderr into stdout; for attach the container (not the client) decides about the TTY.
  proc.stderr.on('data', (b: Buffer) => (wantStderr || (kind === 'attach' && on('stderr'))) && send(2, b));
  onFrame = (buf: Buffer): void => {
    if (buf.length === 0) return;
    const ch = buf[0];
    const data = buf.subarray(1);
    if (ch === 0 && proc.stdin && data.length > 0) proc.stdin.write(data);
    else if (ch === 4) {
      try {
        const size = JSON.parse(data.toString()) as { Width?: number; Height?: number };
        void proc.resize(size.Height ?? 24, size.Width ?? 80);
      } catch {
        /* a malformed resize is ignored, as the kubelet does */
      }
    } else if (ch === 255 && v5 && data[0] === 0) proc.closeStdin();
  };
  for (const b of early.splice(0)) onFrame(b);
  // For attach this only detaches: the container keeps running.
  ws.on('close', () => proc.kill());
  const code = await proc.wait();
  // Let the last output frames go out before the status.
  await new Promise((r) => setImmediate(r));
  send(3, Buffer.from(JSON.stringify(exitStatus(code, command))));
  ws.close(1000);
}
