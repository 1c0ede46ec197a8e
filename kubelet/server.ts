/**
 * The kubelet's own HTTP server (`--port`, 10250): container logs, exec, attach and port-forward for
 * the apiserver.
 *   GET /containerLogs/{ns}/{pod}/{container}?follow=&tailLines=&previous=&timestamps=&sinceSeconds=
 *   GET /exec/{ns}/{pod}/{container}?command=..&command=..&stdin=&stdout=&stderr=&tty=   (WebSocket)
 *   GET /attach/{ns}/{pod}/{container}?stdin=&stdout=&stderr=&tty=                       (WebSocket)
 *   GET /portForward/{ns}/{pod}?port=..                (WebSocket: SPDY/3.1+portforward.k8s.io, v4.channel.k8s.io)
 * Exec and attach speak every remote-command protocol Kubernetes' kubelet does (see wsstream.ts): each
 * message carries a channel (0 stdin, 1 stdout, 2 stderr, 3 error/status, 4 resize; v5: 255 close).
 * Port-forward carries SPDY inside the WebSocket (kubectl ≥ 1.31), or the channel framing with one
 * data/error channel pair per port (client libraries); see portforward.ts.
 *   GET /stats/summary                                 resource usage for the metrics scraper (stats.ts)
 * With TLS (the lab default) only client certificates of the cluster CA get in, and only the apiserver's
 * (or, for /stats, the controller-manager's): 401 without one, 403 for anyone else (auth.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { ServerTls } from '../component-base/tls.js';
import { authorizeKubeletRequest, type KubeletAuthz } from './auth.js';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { core } from '../api/types.js';
import { PORTFORWARD_PROTOCOL, servePortForward, serveChannelPortForward } from './portforward.js';
import { SPDY_PORT_FORWARD_PROTOCOLS, SPDY_REMOTE_COMMAND_PROTOCOLS, spdySession, webSocketSession, type ChannelSession } from './session.js';
import { socketTransport, wsTransport } from './transport.js';
import { SANDBOX, type ExecProcess, type Runtime, type RuntimeContainer } from './runtime/types.js';
import {
  Channel,
  channelCodec,
  type ChannelFrame,
  errorChannelPayload,
  exitStatus,
  failureStatus,
  negotiateProtocol,
  parseForwardPorts,
  parseProtocolHeader,
  PORT_FORWARD_CHANNEL_PROTOCOLS,
  REMOTE_COMMAND_PROTOCOLS,
} from './wsstream.js';

export { exitStatus };
export const EXEC_PROTOCOLS = REMOTE_COMMAND_PROTOCOLS;

export interface KubeletServerOptions {
  port: number;
  host?: string;
  /** What the server uses of the runtime (tests give a small fake). */
  runtime: Pick<Runtime, 'kind' | 'list' | 'execInteractive' | 'logs' | 'attach'>;
  /** The desired pod by namespace/name (to default the container name). */
  lookupPod: (namespace: string, name: string) => core.Pod | undefined;
  /** The resource summary (`/stats/summary`); 404 when absent. */
  summary?: () => Promise<unknown>;
  /** Where hostNetwork pods listen (the node's IP, as probes use); default 127.0.0.1. */
  nodeIp?: string;
  /** Serve HTTPS with this certificate and accept only the apiserver's client certificate (auth.ts); absent: plain HTTP. */
  tls?: ServerTls;
  log: Logger;
}

export interface KubeletServer {
  readonly port: number;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
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

/** Answers an upgrade request with a plain HTTP error (before any WebSocket exists). */
function refuseUpgrade(socket: Duplex, err: unknown): void {
  if (socket.destroyed || !socket.writable) return;
  const code = err instanceof HttpError ? err.code : 500;
  const body = err instanceof Error ? err.message : String(err);
  const reason = code === 400 ? 'Bad Request' : code === 401 ? 'Unauthorized' : code === 403 ? 'Forbidden' : code === 404 ? 'Not Found' : 'Error';
  socket.end(`HTTP/1.1 ${code} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

const isSpdyUpgrade = (req: IncomingMessage): boolean => String(req.headers.upgrade ?? '').toLowerCase() === 'spdy/3.1';

/**
 * Answers an `Upgrade: SPDY/3.1` request (kubectl ≤ 1.29 for exec/attach, ≤ 1.30 for port-forward):
 * picks the first `X-Stream-Protocol-Version` the client lists that the kubelet speaks, and switches
 * protocols. Throws 403 naming both lists, as httpstream's handshake does.
 */
function spdyHandshake(req: IncomingMessage, socket: Duplex, supported: readonly string[]): string {
  const offered = parseProtocolHeader(req.headers['x-stream-protocol-version']);
  const protocol = offered.find((p) => supported.includes(p));
  if (!protocol) throw new HttpError(403, `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server supports [${supported.join(' ')}]`);
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`);
  return protocol;
}

/** The subprotocol for an offer, or a 400 naming both sides (wsstream's handshake error). */
function agree(offered: string[], supported: readonly string[]): string {
  const chosen = negotiateProtocol(offered, supported);
  if (chosen === undefined) throw new HttpError(400, `requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${supported.join(' ')}]`);
  return chosen;
}

export async function startKubeletServer(o: KubeletServerOptions): Promise<KubeletServer> {
  // The subprotocol chosen for each upgrade before the handshake (ws asks for it during the handshake).
  const chosen = new WeakMap<IncomingMessage, string>();
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (_protocols, req) => chosen.get(req) || false,
  });
  const authz = (req: IncomingMessage): KubeletAuthz => {
    if (!o.tls) return { allowed: true, user: '' };
    const s = req.socket as TLSSocket;
    const peer = s.getPeerCertificate();
    return authorizeKubeletRequest(s.authorized, peer && Object.keys(peer).length > 0 ? peer : undefined, req.method ?? 'GET', new URL(req.url ?? '/', 'http://kubelet').pathname);
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const a = authz(req);
    if (!a.allowed) {
      res.writeHead(a.code, { 'content-type': 'text/plain' }).end(a.message);
      return;
    }
    handleHttp(o, req, res).catch((err: unknown) => {
      const code = err instanceof HttpError ? err.code : 500;
      if (!res.headersSent) res.writeHead(code, { 'content-type': 'text/plain' });
      res.end(err instanceof Error ? err.message : String(err));
    });
  };
  const server: Server = o.tls
    ? createHttpsServer({ cert: o.tls.cert, key: o.tls.key, ca: o.tls.clientCa, requestCert: true, rejectUnauthorized: false }, onRequest)
    : createServer(onRequest);
  // A handshake that stalls or sends junk costs its own connection only.
  server.on('tlsClientError', (err: Error, socket: Duplex) => {
    o.log.debug({ err: err.message }, 'TLS handshake failed');
    socket.destroy();
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // One bad peer costs only its own connection: a reset or a write after close must not reach the process.
    socket.on('error', (err) => o.log.debug({ err: err.message, url: req.url }, 'upgrade socket error'));
    try {
      const a = authz(req);
      if (!a.allowed) throw new HttpError(a.code, a.message);
      routeUpgrade(o, wss, chosen, req, socket, head);
    } catch (err) {
      refuseUpgrade(socket, err);
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

/** decodeURIComponent for a path segment: a malformed escape (`%ZZ`) is the client's error, 400. */
function segment(raw: string, what: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, `malformed ${what} in the request path: "${raw}"`);
  }
}

/** Picks the stream an upgrade asks for (exec, attach, port-forward) and its protocol (WebSocket or SPDY). */
function routeUpgrade(o: KubeletServerOptions, wss: WebSocketServer, chosen: WeakMap<IncomingMessage, string>, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://kubelet');
  } catch {
    throw new HttpError(400, 'malformed request URL');
  }
  const offered = parseProtocolHeader(req.headers['sec-websocket-protocol']);
  const pf = url.pathname.match(/^\/portForward\/([^/]+)\/([^/]+)$/);
  if (pf) {
    const [ns, pod] = [segment(pf[1], 'namespace'), segment(pf[2], 'pod name')];
    upgradePortForward(o, wss, chosen, { req, socket, head, offered, query: url.searchParams }, ns, pod).catch((err: unknown) => refuseUpgrade(socket, err));
    return;
  }
  const m = url.pathname.match(/^\/(exec|attach)\/([^/]+)\/([^/]+)\/([^/]*)$/);
  if (!m) throw new HttpError(404, 'not found');
  const kind = m[1] as 'exec' | 'attach';
  const target = { ns: segment(m[2], 'namespace'), pod: segment(m[3], 'pod name'), container: segment(m[4], 'container name') };
  if (isSpdyUpgrade(req)) {
    const protocol = spdyHandshake(req, socket, SPDY_REMOTE_COMMAND_PROTOCOLS);
    if (head.length) socket.unshift(head);
    const f = streamFlags(url.searchParams);
    const expected = [Channel.error, ...(f.stdin ? [Channel.stdin] : []), ...(f.stdout ? [Channel.stdout] : []), ...(f.stderr ? [Channel.stderr] : [])];
    runRemoteCommand(o, kind, spdySession(socketTransport(socket), protocol, expected, o.log), target, url.searchParams);
    return;
  }
  const protocol = agree(offered, REMOTE_COMMAND_PROTOCOLS);
  chosen.set(req, protocol);
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on('error', (err) => o.log.debug({ err: err.message, kind, pod: `${target.ns}/${target.pod}` }, 'remote command connection error'));
    runRemoteCommand(o, kind, webSocketSession(ws, channelCodec(protocol), o.log), target, url.searchParams);
  });
}

async function handleHttp(o: KubeletServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://kubelet');
  if (url.pathname === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  if (url.pathname === '/stats/summary' && req.method === 'GET' && o.summary) {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(await o.summary()));
    return;
  }
  const m = url.pathname.match(/^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]*)$/);
  if (!m || req.method !== 'GET') throw new HttpError(404, 'not found');
  const q = url.searchParams;
  const bool = (k: string): boolean => q.get(k) === 'true' || q.get(k) === '1';
  const c = await findContainer(o, segment(m[1], 'namespace'), segment(m[2], 'pod name'), segment(m[3], 'container name'), bool('previous'));
  const tail = q.get('tailLines');
  const since = q.get('sinceSeconds');
  const stream = await o.runtime
    .logs(c.id, {
      follow: bool('follow') && !bool('previous'),
      timestamps: bool('timestamps'),
      ...(tail !== null && tail !== '' && Number(tail) >= 0 ? { tailLines: Number(tail) } : {}),
      ...(since ? { sinceSeconds: Number(since) } : {}),
    })
    .catch((err: unknown) => {
      // Removed between the listing and the read (the pod is being deleted): not a server fault.
      if ((err as { statusCode?: number }).statusCode === 404) throw new HttpError(404, `container ${c.name} of pod "${m[2]}" was removed`);
      throw err;
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

/** Opens TCP connections to a pod's ports. */
const dialer =
  (host: string) =>
  (port: number): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const s = connect({ host, port });
      s.once('connect', () => {
        s.removeListener('error', reject);
        resolve(s);
      });
      s.once('error', reject);
    });

interface UpgradeRequest {
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  offered: string[];
  query: URLSearchParams;
}

async function upgradePortForward(
  o: KubeletServerOptions,
  wss: WebSocketServer,
  chosen: WeakMap<IncomingMessage, string>,
  u: UpgradeRequest,
  ns: string,
  pod: string,
): Promise<void> {
  if (isSpdyUpgrade(u.req)) {
    // kubectl ≤ 1.30: the same SPDY streams as below, on the raw connection instead of in a WebSocket.
    const target = await podTarget(o, ns, pod);
    spdyHandshake(u.req, u.socket, SPDY_PORT_FORWARD_PROTOCOLS);
    if (u.head.length) u.socket.unshift(u.head);
    o.log.debug({ pod: `${ns}/${pod}`, target: target.host, protocol: 'SPDY/3.1' }, 'port-forward started');
    servePortForward(socketTransport(u.socket), { dial: dialer(target.host), podName: pod, podUid: target.uid, log: o.log });
    return;
  }
  const spdy = u.offered.includes(PORTFORWARD_PROTOCOL);
  let protocol = PORTFORWARD_PROTOCOL;
  let ports: number[] = [];
  if (spdy) {
    u.req.headers['sec-websocket-protocol'] = PORTFORWARD_TOKEN;
  } else {
    protocol = agree(u.offered, [...PORT_FORWARD_CHANNEL_PROTOCOLS, PORTFORWARD_PROTOCOL]);
    try {
      ports = parseForwardPorts(u.query);
    } catch (err) {
      throw new HttpError(400, (err as Error).message);
    }
  }
  chosen.set(u.req, protocol);
  // Resolve before upgrading, so a missing pod is an HTTP error the client can print.
  const target = await podTarget(o, ns, pod);
  const dial = dialer(target.host);
  wss.handleUpgrade(u.req, u.socket, u.head, (ws) => {
    ws.on('error', (err) => o.log.debug({ err: err.message, pod: `${ns}/${pod}` }, 'port-forward connection error'));
    o.log.debug({ pod: `${ns}/${pod}`, target: target.host, protocol }, 'port-forward started');
    const opts = { dial, podName: pod, podUid: target.uid, log: o.log };
    if (spdy) servePortForward(wsTransport(ws), opts);
    else serveChannelPortForward(ws, channelCodec(protocol), ports, opts);
  });
}

type TermSize = { rows: number; cols: number };

function parseResize(f: ChannelFrame): TermSize | undefined {
  if (f.channel !== Channel.resize) return undefined;
  try {
    const size = JSON.parse(f.data.toString()) as { Width?: number; Height?: number };
    if (size.Width && size.Height) return { rows: size.Height, cols: size.Width };
  } catch {
    /* a malformed resize is ignored, as the kubelet does */
  }
  return undefined;
}

/**
 * A session's client frames: held until the process exists (`early`), then handed to `onFrame`.
 */
class FrameInbox {
  readonly early: ChannelFrame[] = [];
  onFrame?: (f: ChannelFrame) => void;
  /** Called for each resize that arrives while frames are still held. */
  onEarlyResize?: (s: TermSize) => void;

  constructor(session: ChannelSession) {
    session.onFrame((f) => {
      if (this.onFrame) {
        this.onFrame(f);
        return;
      }
      this.early.push(f);
      const size = parseResize(f);
      if (size) this.onEarlyResize?.(size);
    });
  }
}

/**
 * The terminal size kubectl sends right after connecting, so a TTY process starts with it; a client
 * that sends none within a short wait starts with the runtime's default.
 */
async function firstResize(inbox: FrameInbox, session: ChannelSession, waitMs = 500): Promise<TermSize | undefined> {
  for (const f of inbox.early) {
    const s = parseResize(f);
    if (s) return s;
  }
  return new Promise((resolve) => {
    let settled = false;
    const done = (s: TermSize | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      inbox.onEarlyResize = undefined;
      resolve(s);
    };
    const timer = setTimeout(() => done(undefined), waitMs);
    inbox.onEarlyResize = done;
    session.onClose(() => done(undefined));
  });
}

/**
 * A remote-command flag as the kubelet reads it: "1" (what kube-apiserver sends it), or "true" (what
 * kubelab's own gRPC bridge sends). The apiserver has already parsed the client's spelling.
 */
const flag = (q: URLSearchParams, k: string): boolean => q.get(k) === '1' || q.get(k) === 'true';

/** exec and attach: the same remote-command protocol around a runtime process or the container's own stdio. */
async function handleRemoteCommand(
  o: KubeletServerOptions,
  kind: 'exec' | 'attach',
  session: ChannelSession,
  target: { ns: string; pod: string; container: string },
  q: URLSearchParams,
): Promise<void> {
  const command = q.getAll('command');
  const { tty, stdin: wantStdin, stdout: wantStdout, stderr: wantStderr } = streamFlags(q);
  // Frames may arrive before the process exists: hold them until it does.
  const inbox = new FrameInbox(session);
  await session.ready;
  // An empty frame on the lowest writable channel tells the client the streams are up (as the kubelet does).
  session.send(wantStdout ? Channel.stdout : wantStderr ? Channel.stderr : Channel.error, Buffer.alloc(0));
  if (kind === 'exec' && command.length === 0) throw new Error('you must specify at least one command for the container');
  const c = await findContainer(o, target.ns, target.pod, target.container, false);
  if (c.state !== 'running') throw new Error(`container ${c.name} is not running`);
  let proc: ExecProcess;
  if (kind === 'exec') {
    const size = tty ? await firstResize(inbox, session) : undefined;
    proc = await o.runtime.execInteractive(c.id, command, { stdin: wantStdin, tty, ...(size ? { size } : {}) });
  } else if (o.runtime.attach) proc = await o.runtime.attach(c.id, { stdin: wantStdin });
  else throw new Error(`attach is not supported by the ${o.runtime.kind} runtime`);
  let received = 0;
  const attachedAt = Date.now();
  proc.stdout.on('data', (b: Buffer) => {
    received += b.length;
    if (wantStdout) session.send(Channel.stdout, b);
  });
  // For attach the container (not the client) decides about the TTY.
  proc.stderr.on('data', (b: Buffer) => {
    received += b.length;
    if (wantStderr || (kind === 'attach' && flag(q, 'stderr'))) session.send(Channel.stderr, b);
  });
  inbox.onFrame = (f: ChannelFrame): void => {
    if (f.channel === Channel.stdin) {
      if (wantStdin && proc.stdin && f.data.length > 0) proc.stdin.write(f.data);
    } else if (f.channel === Channel.resize) {
      const size = parseResize(f);
      if (size) void proc.resize(size.rows, size.cols);
    } else if (f.channel === Channel.close && f.data[0] === Channel.stdin) proc.closeStdin();
  };
  for (const f of inbox.early.splice(0)) inbox.onFrame(f);
  // For attach this only detaches: the container keeps running.
  session.onClose(() => proc.kill());
  const code = await proc.wait();
  // The container exited between the state check and the attach: its output is in its log, not in this
  // stream. Failing (as the real kubelet's "container not running") lets `kubectl run -i` and
  // `kubectl attach` fall back to the logs instead of printing nothing.
  if (kind === 'attach' && received === 0 && (await exitedBefore(o, c.id, attachedAt))) throw new Error(`container ${c.name} is not running`);
  // Let the last output frames go out before the status.
  await new Promise((r) => setImmediate(r));
  const payload = errorChannelPayload(session.protocol, exitStatus(code, command));
  if (payload) session.send(Channel.error, payload);
  session.close();
}

/** The container finished before `t` (Docker's finish time has second-ish precision: 1 s of slack). */
async function exitedBefore(o: KubeletServerOptions, id: string, t: number): Promise<boolean> {
  const c = (await o.runtime.list()).find((x) => x.id === id);
  return c === undefined || (c.state !== 'running' && (c.finishedAt ?? 0) <= t + 1000);
}

/** The streams a request asks for; a TTY merges stderr into stdout (the kubelet drops a stderr request with a TTY). */
function streamFlags(q: URLSearchParams): { tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean } {
  const tty = flag(q, 'tty');
  return { tty, stdin: flag(q, 'stdin'), stdout: flag(q, 'stdout'), stderr: flag(q, 'stderr') && !tty };
}

/** Runs a remote command on a session; a failure goes to the client on the error channel. */
function runRemoteCommand(o: KubeletServerOptions, kind: 'exec' | 'attach', session: ChannelSession, target: { ns: string; pod: string; container: string }, q: URLSearchParams): void {
  handleRemoteCommand(o, kind, session, target, q).catch((err: unknown) => {
    o.log.warn({ err: (err as Error).message, kind }, 'remote command failed');
    const payload = errorChannelPayload(session.protocol, failureStatus((err as Error).message));
    if (payload) session.send(Channel.error, payload);
    session.close();
  });
}
