/**
 * Proxies pod log and exec requests to the kubelet of the pod's node (its address and port come from
 * the Node's status.addresses and status.daemonEndpoints.kubeletEndpoint). Logs are plain HTTP; exec is
 * a WebSocket speaking v5.channel.k8s.io to the kubelet, bridged to the gRPC Exec stream.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Duplex } from 'node:stream';
import type * as grpc from '@grpc/grpc-js';
import WebSocket from 'ws';
import { ApiError, badRequest } from '../api/errors.js';
import type { core } from '../api/types.js';
import type { Registry } from './registry.js';

export interface LogRequest {
  namespace: string;
  name: string;
  container: string;
  follow: boolean;
  previous: boolean;
  tailLines: number;
  timestamps: boolean;
  sinceSeconds: number;
}

/** The registry of the most recently started apiserver in this process (for `kubeletUrl`). */
let current: Registry | undefined;

/** Where the kubelet of a registry's pod listens: `http://<InternalIP>:<kubeletEndpoint.Port>`. */
export async function kubeletUrlFor(registry: Registry, namespace: string, pod: string): Promise<{ base: string; nodeName: string }> {
  const p = (await registry.get('pods', namespace, pod)) as core.Pod;
  const nodeName = p.spec?.nodeName;
  if (!nodeName) throw badRequest(`pod ${pod} does not have a host assigned`);
  let node: core.Node;
  try {
    node = (await registry.get('nodes', '', nodeName)) as core.Node;
  } catch {
    throw new ApiError('ServiceUnavailable', `node "${nodeName}" of pod ${pod} is not registered`);
  }
  const addrs = node.status?.addresses ?? [];
  const addr = addrs.find((a) => a.type === 'InternalIP')?.address ?? addrs.find((a) => a.type === 'Hostname')?.address;
  if (!addr) throw new ApiError('ServiceUnavailable', `node "${nodeName}" has no address for its kubelet`);
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port || 10250;
  return { base: `http://${addr}:${port}`, nodeName };
}

/** `kubeletUrlFor` on this process's apiserver registry (the REST facade's helper). */
export function kubeletUrl(namespace: string, pod: string): Promise<{ base: string; nodeName: string }> {
  if (!current) return Promise.reject(new ApiError('ServiceUnavailable', 'no apiserver registry in this process'));
  return kubeletUrlFor(current, namespace, pod);
}

/** The container a request means: the one named, the pod's default-container annotation, or its only container. */
export async function defaultContainer(registry: Registry, namespace: string, pod: string, requested: string | null): Promise<string> {
  if (requested) return requested;
  const p = (await registry.get('pods', namespace, pod)) as core.Pod;
  const names = (p.spec?.containers ?? []).map((c) => c.name);
  const def = p.metadata?.annotations?.['kubectl.kubernetes.io/default-container'];
  if (def && names.includes(def)) return def;
  if (names.length === 1) return names[0];
  throw badRequest(`a container name must be specified for pod ${pod}, choose one of: [${names.join(' ')}]`);
}

interface ExecFirst {
  namespace?: string;
  name?: string;
  container?: string;
  command?: string[];
  stdin?: boolean;
  tty?: boolean;
}

interface ExecMsg {
  stdinData?: Buffer;
  stdinClose?: boolean;
  rows?: number;
  cols?: number;
}

/** The apiserver's TLS toward kubelets: the CA of their serving certificates and its own client certificate. */
export interface KubeletClientTls {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export class KubeletProxy {
  constructor(
    private readonly registry: Registry,
    /** Absent: plain HTTP to kubelets (an insecure test apiserver). */
    readonly tls?: KubeletClientTls,
  ) {
    current = registry;
  }

  /**
   * An HTTP request to a kubelet; with TLS it verifies the kubelet's serving certificate against the
   * cluster CA and the node's address, and presents the apiserver's kubelet-client certificate.
   */
  request(options: RequestOptions, onResponse: (res: IncomingMessage) => void): ClientRequest {
    if (!this.tls) return httpRequest(options, onResponse);
    return httpsRequest({ ...options, ca: this.tls.ca, cert: this.tls.cert, key: this.tls.key }, onResponse);
  }

  /** A raw connection to a kubelet (for relaying upgrades), resolved once connected (and the TLS handshake done). */
  connect(host: string, port: number): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const sock = this.tls
        ? tlsConnect({ host, port, ca: this.tls.ca, cert: this.tls.cert, key: this.tls.key, ALPNProtocols: ['http/1.1'] }, () => resolve(sock))
        : netConnect({ host, port }, () => resolve(sock));
      sock.once('error', reject);
    });
  }

  /** The WebSocket URL scheme and TLS options for a kubelet. */
  wsOptions(): { scheme: 'ws' | 'wss'; tls: { ca?: Buffer; cert?: Buffer; key?: Buffer } } {
    return this.tls ? { scheme: 'wss', tls: { ca: this.tls.ca, cert: this.tls.cert, key: this.tls.key } } : { scheme: 'ws', tls: {} };
  }

  kubeletUrl(namespace: string, pod: string): Promise<{ base: string; nodeName: string }> {
    return kubeletUrlFor(this.registry, namespace, pod);
  }

  async logs(req: LogRequest, out: grpc.ServerWritableStream<unknown, { data: Buffer }>): Promise<void> {
    const { base } = await this.kubeletUrl(req.namespace, req.name);
    const container = await defaultContainer(this.registry, req.namespace, req.name, req.container);
    const q = new URLSearchParams();
    if (req.follow) q.set('follow', 'true');
    if (req.previous) q.set('previous', 'true');
    if (req.timestamps) q.set('timestamps', 'true');
    if (req.tailLines >= 0) q.set('tailLines', String(req.tailLines));
    if (req.sinceSeconds > 0) q.set('sinceSeconds', String(req.sinceSeconds));
    const url = new URL(`${base}/containerLogs/${encodeURIComponent(req.namespace)}/${encodeURIComponent(req.name)}/${encodeURIComponent(container)}?${q}`);
    await new Promise<void>((resolve, reject) => {
      const r = this.request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method: 'GET' }, (res) => {
        if (res.statusCode !== 200) {
          let body = '';
          res.on('data', (b: Buffer) => (body += b.toString()));
          res.on('end', () => reject(new ApiError(res.statusCode === 404 ? 'NotFound' : 'BadRequest', body.trim() || `kubelet answered ${res.statusCode}`)));
          return;
        }
        res.on('data', (b: Buffer) => out.write({ data: b }));
        res.on('end', () => {
          out.end();
          resolve();
        });
        res.on('error', reject);
      });
      r.on('error', (err) => reject(new ApiError('ServiceUnavailable', `kubelet unreachable: ${err.message}`)));
      out.on('error', () => r.destroy());
      out.on('cancelled', () => {
        r.destroy();
        resolve();
      });
      r.end();
    });
  }

  /** Proxies a gRPC exec; `authorize` (namespace, pod) is awaited once the first message names the pod. */
  async execGrpc(call: grpc.ServerDuplexStream<Record<string, unknown>, Record<string, unknown>>, authorize?: (namespace: string, name: string) => Promise<void>): Promise<void> {
    // Listen from the start: messages that arrive while the kubelet is looked up must not be lost.
    const early: ExecMsg[] = [];
    let deliver: ((m: ExecMsg) => void) | undefined;
    // For the whole call, not just its first message: a stream error later (a message that does not
    // decode, a reset) must end this exec only.
    // (The kubelet side ends through 'cancelled', which follows.)
    call.on('error', () => undefined);
    const first = await new Promise<ExecFirst>((resolve, reject) => {
      let got = false;
      call.on('data', (m: ExecFirst & ExecMsg) => {
        if (!got) {
          got = true;
          resolve(m);
        } else if (deliver) deliver(m);
        else early.push(m);
      });
      call.once('end', () => reject(badRequest('exec stream ended before the request')));
      call.once('error', reject);
    });
    const ns = first.namespace ?? '';
    const pod = first.name ?? '';
    await authorize?.(ns, pod);
    const command = first.command ?? [];
    if (command.length === 0) throw badRequest('you must specify at least one command for the container');
    const { base } = await this.kubeletUrl(ns, pod);
    const container = await defaultContainer(this.registry, ns, pod, first.container ?? '');
    const q = new URLSearchParams();
    for (const c of command) q.append('command', c);
    q.set('stdout', 'true');
    q.set('stderr', first.tty ? 'false' : 'true');
    if (first.stdin) q.set('stdin', 'true');
    if (first.tty) q.set('tty', 'true');
    const wsOpts = this.wsOptions();
    const url = `${base.replace(/^http/, wsOpts.scheme)}/exec/${encodeURIComponent(ns)}/${encodeURIComponent(pod)}/${encodeURIComponent(container)}?${q}`;
    const ws = new WebSocket(url, ['v5.channel.k8s.io'], wsOpts.tls);
    const frame = (ch: number, data: Buffer): Buffer => Buffer.concat([Buffer.from([ch]), data]);
    const pending: Buffer[] = [];
    const send = (b: Buffer): void => {
      if (ws.readyState === WebSocket.OPEN) ws.send(b);
      else if (ws.readyState === WebSocket.CONNECTING) pending.push(b);
    };
    ws.on('open', () => {
      for (const b of pending.splice(0)) ws.send(b);
    });
    deliver = (m: ExecMsg): void => {
      if (m.stdinData && m.stdinData.length > 0) send(frame(0, Buffer.from(m.stdinData)));
      if (m.stdinClose) send(frame(255, Buffer.from([0])));
      if (m.rows && m.cols) send(frame(4, Buffer.from(JSON.stringify({ Width: m.cols, Height: m.rows }))));
    };
    for (const m of early.splice(0)) deliver(m);
    call.on('cancelled', () => ws.terminate());
    await new Promise<void>((resolve) => {
      let finished = false;
      const finish = (msg: Record<string, unknown>): void => {
        if (finished) return;
        finished = true;
        call.write(msg);
        call.end();
        resolve();
      };
      ws.on('message', (d: Buffer) => {
        const ch = d[0];
        const body = d.subarray(1);
        if (ch === 1) call.write({ stdout: body });
        else if (ch === 2) call.write({ stderr: body });
        else if (ch === 3) {
          try {
            const st = JSON.parse(body.toString()) as { status?: string; reason?: string; message?: string; details?: { causes?: { reason?: string; message?: string }[] } };
            if (st.status === 'Success') finish({ exited: true, exitCode: 0 });
            else if (st.reason === 'NonZeroExitCode') finish({ exited: true, exitCode: Number(st.details?.causes?.find((c) => c.reason === 'ExitCode')?.message ?? 1) });
            else finish({ error: st.message ?? 'exec failed' });
          } catch {
            finish({ error: 'kubelet sent a malformed exec status' });
          }
        }
      });
      ws.on('unexpected-response', (_req, res) => finish({ error: `kubelet refused exec: HTTP ${res.statusCode}` }));
      ws.on('error', (err) => finish({ error: `kubelet unreachable: ${err.message}` }));
      ws.on('close', () => finish({ error: 'exec connection closed without an exit status' }));
    });
  }
}
