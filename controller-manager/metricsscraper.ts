/**
 * The metrics scraper (metrics-server's job, in the controller-manager): one work-queue key per Node,
 * each scraped every `metricResolutionMs` at `http://<InternalIP>:<kubeletEndpoint port>/stats/summary`
 * (how the apiserver reaches a kubelet for logs), decoded into the shared MetricsStore. A node that does
 * not answer, or answers nonsense, loses only its own sample.
 *
 * The leader also serves `metrics.k8s.io/v1beta1` (NodeMetrics, PodMetrics) on its own port and
 * publishes where: Service + Endpoints `kube-system/metrics-server`, which the apiserver's aggregator
 * proxies `/apis/metrics.k8s.io/...` to (see docs/metrics.md for why an aggregated group).
 */
import { createServer, get as httpGet, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { get as httpsGet } from 'node:https';
import type { ClientTls } from '../component-base/tls.js';
import { isAlreadyExists, isNotFound } from '../api/errors.js';
import { nowTimestamp } from '../api/objects.js';
import { matchesLabels, parseLabelSelector } from '../api/selectors.js';
import type { core } from '../api/types.js';
import type { Controller, ControllerContext, Enqueue } from './context.js';
import { decodeSummary, type MetricsStore, type PodUsage, type Usage } from './metricsstore.js';

export const METRICS_SERVICE = { namespace: 'kube-system', name: 'metrics-server' } as const;
const GROUP_VERSION = 'metrics.k8s.io/v1beta1';
/** Bigger summaries than this are refused (a node with thousands of pods stays well below). */
const MAX_SUMMARY_BYTES = 32 * 1024 * 1024;

/** Where a node's kubelet serves `/stats/summary` (https with TLS); undefined when the node has no address yet. */
export function summaryUrl(node: core.Node, scheme: 'http' | 'https' = 'http'): string | undefined {
  const addrs = node.status?.addresses ?? [];
  const addr = addrs.find((a) => a.type === 'InternalIP')?.address ?? addrs.find((a) => a.type === 'Hostname')?.address;
  if (!addr) return undefined;
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port || 10250;
  return `${scheme}://${addr}:${port}/stats/summary`;
}

/**
 * GETs a kubelet's summary, reading at most `limit` bytes (a runaway peer costs its own scrape, not the
 * process's memory). With TLS the kubelet's serving certificate is verified against the cluster CA and the
 * controller-manager's client certificate is presented (the kubelet lets it read /stats only).
 */
function getSummary(url: string, tls: ClientTls | undefined, limit: number, signal: AbortSignal): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const onRes = (res: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      let n = 0;
      res.on('data', (b: Buffer) => {
        n += b.length;
        if (n > limit) {
          res.destroy();
          reject(new Error(`summary larger than ${limit} bytes`));
          return;
        }
        chunks.push(b);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    };
    const req = url.startsWith('https:') ? httpsGet(url, { ca: tls?.ca, cert: tls?.cert, key: tls?.key, signal }, onRes) : httpGet(url, { signal }, onRes);
    req.on('error', reject);
  });
}

export class MetricsScraper implements Controller {
  readonly name = 'metrics-scraper';
  readonly workers = 8;
  private readonly nodes;
  private readonly pods;
  private readonly store: MetricsStore;

  constructor(private readonly ctx: ControllerContext) {
    this.nodes = ctx.informers.get('nodes');
    this.pods = ctx.informers.get('pods');
    this.store = ctx.metrics;
  }

  register(q: Enqueue): void {
    // Adds only: a heartbeat's update must not pull the next scrape forward (the period is the requeue).
    this.nodes.addHandler({
      onAdd: (n) => q.add(n.metadata?.name ?? ''),
      onDelete: (n) => q.add(n.metadata?.name ?? ''),
    });
  }

  async reconcile(name: string, signal: AbortSignal): Promise<{ requeueAfter?: number }> {
    const period = this.ctx.config.metricResolutionMs;
    const node = this.nodes.get(name);
    if (!node) {
      this.store.removeNode(name);
      return {};
    }
    const tls = this.ctx.config.tls;
    const url = summaryUrl(node, tls ? 'https' : 'http');
    if (!url) return { requeueAfter: period };
    try {
      const res = await getSummary(url, tls, MAX_SUMMARY_BYTES, AbortSignal.any([signal, AbortSignal.timeout(Math.min(period, 10_000))]));
      const text = res.text;
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
      this.store.update(decodeSummary(name, JSON.parse(text) as unknown));
    } catch (err) {
      this.ctx.log.warn({ controller: this.name, node: name, err: (err as Error).message }, 'scrape failed');
    }
    return { requeueAfter: period };
  }

  /** Starts the metrics API and points Service/Endpoints kube-system/metrics-server at it. */
  async afterSync(signal: AbortSignal): Promise<void> {
    const server = createServer((req, res) => {
      try {
        this.serve(req, res);
      } catch (err) {
        sendStatus(res, 500, 'InternalError', (err as Error).message);
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.ctx.config.metricsPort, this.ctx.config.bindAddress, () => resolve());
    });
    const close = (): void => {
      server.closeAllConnections();
      server.close();
    };
    if (signal.aborted) close();
    else signal.addEventListener('abort', close, { once: true });
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : this.ctx.config.metricsPort;
    this.ctx.log.info({ controller: this.name, port, address: this.ctx.config.metricsAdvertiseAddress }, 'metrics API serving');
    await this.publish(port);
  }

  private async publish(port: number): Promise<void> {
    const { client } = this.ctx;
    const { namespace, name } = METRICS_SERVICE;
    const svc: core.Service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { namespace, name, labels: { 'k8s-app': 'metrics-server' } },
      spec: { ports: [{ name: 'http', port: 443, targetPort: port, protocol: 'TCP' }] },
    };
    await client.create('services', svc).catch((err: unknown) => {
      if (!isAlreadyExists(err)) throw err;
    });
    const ep: core.Endpoints = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { namespace, name, labels: { 'k8s-app': 'metrics-server' } },
      subsets: [{ addresses: [{ ip: this.ctx.config.metricsAdvertiseAddress }], ports: [{ name: 'http', port, protocol: 'TCP' }] }],
    };
    try {
      const cur = await client.get('endpoints', name, { namespace });
      await client.update('endpoints', { ...ep, metadata: { ...ep.metadata, resourceVersion: cur.metadata?.resourceVersion } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await client.create('endpoints', ep);
    }
  }

  /** The metrics.k8s.io/v1beta1 API (discovery, NodeMetrics and PodMetrics list/get with label selectors). */
  private serve(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://metrics');
    const path = url.pathname.replace(/\/+$/, '');
    if (req.method !== 'GET') return sendStatus(res, 405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    if (path === '/healthz' || path === '/readyz' || path === '/livez') return void res.writeHead(200).end('ok');
    if (path === '/apis/metrics.k8s.io') return sendJson(res, apiGroup());
    if (path === '/apis/metrics.k8s.io/v1beta1') return sendJson(res, resourceList());
    const rest = path.startsWith('/apis/metrics.k8s.io/v1beta1/') ? path.slice('/apis/metrics.k8s.io/v1beta1/'.length).split('/').map(decodeURIComponent) : [];
    let selector;
    try {
      selector = parseLabelSelector(url.searchParams.get('labelSelector') ?? undefined);
    } catch (err) {
      return sendStatus(res, 400, 'BadRequest', (err as Error).message);
    }
    const now = nowTimestamp(this.ctx.clock.now());
    if (rest[0] === 'nodes' && rest.length <= 2) {
      const nodeMetrics = (n: core.Node): object | undefined => {
        const u = this.store.node(n.metadata?.name ?? '');
        return u ? { kind: 'NodeMetrics', apiVersion: GROUP_VERSION, metadata: { name: n.metadata?.name, creationTimestamp: now, labels: n.metadata?.labels ?? {} }, ...window(u), usage: usage(u.cpuNanoCores, u.memoryBytes) } : undefined;
      };
      if (rest.length === 2) {
        const n = this.nodes.get(rest[1]);
        const m = n && nodeMetrics(n);
        return m ? sendJson(res, m) : sendStatus(res, 404, 'NotFound', `nodemetrics.metrics.k8s.io "${rest[1]}" not found`, { name: rest[1], group: 'metrics.k8s.io', kind: 'nodes' });
      }
      const items = this.nodes
        .list()
        .filter((n) => matchesLabels(selector, n.metadata?.labels))
        .map(nodeMetrics)
        .filter((m) => m !== undefined);
      return sendJson(res, { kind: 'NodeMetricsList', apiVersion: GROUP_VERSION, metadata: {}, items });
    }
    let namespace: string | undefined;
    let tail = rest;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      tail = rest.slice(2);
    }
    if (tail[0] === 'pods' && tail.length <= 2) {
      const podMetrics = (u: PodUsage, pod: core.Pod): object => ({
        kind: 'PodMetrics',
        apiVersion: GROUP_VERSION,
        metadata: { name: u.name, namespace: u.namespace, creationTimestamp: now, labels: pod.metadata?.labels ?? {} },
        ...window(u),
        containers: u.containers.map((c) => ({ name: c.name, usage: usage(c.cpuNanoCores, c.memoryBytes) })),
      });
      if (tail.length === 2 && namespace) {
        const u = this.store.pod(namespace, tail[1]);
        const pod = this.pods.get(`${namespace}/${tail[1]}`);
        return u && pod
          ? sendJson(res, podMetrics(u, pod))
          : sendStatus(res, 404, 'NotFound', `podmetrics.metrics.k8s.io "${namespace}/${tail[1]}" not found`, { name: tail[1], group: 'metrics.k8s.io', kind: 'pods' });
      }
      if (tail.length === 1) {
        const items: object[] = [];
        for (const u of this.store.pods(namespace)) {
          const pod = this.pods.get(`${u.namespace}/${u.name}`);
          if (pod && matchesLabels(selector, pod.metadata?.labels)) items.push(podMetrics(u, pod));
        }
        return sendJson(res, { kind: 'PodMetricsList', apiVersion: GROUP_VERSION, metadata: {}, items });
      }
    }
    sendStatus(res, 404, 'NotFound', 'the server could not find the requested resource');
  }
}

function window(u: Pick<Usage, 'timestamp' | 'windowMs'>): { timestamp: string; window: string } {
  return { timestamp: new Date(u.timestamp).toISOString().replace(/\.\d+Z$/, 'Z'), window: `${(u.windowMs / 1000).toFixed(3).replace(/\.?0+$/, '')}s` };
}

/** Quantities as metrics-server writes them: CPU in nanocores, memory in KiB. */
export function usage(cpuNanoCores: number, memoryBytes: number): { cpu: string; memory: string } {
  return { cpu: `${Math.max(0, Math.round(cpuNanoCores))}n`, memory: `${Math.max(0, Math.round(memoryBytes / 1024))}Ki` };
}

function apiGroup(): object {
  const v = { groupVersion: GROUP_VERSION, version: 'v1beta1' };
  return { kind: 'APIGroup', apiVersion: 'v1', name: 'metrics.k8s.io', versions: [v], preferredVersion: v };
}

/** The group's APIResourceList (also what the apiserver's aggregated discovery is built from). */
export function resourceList(): object {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: GROUP_VERSION,
    resources: [
      { name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list'] },
      { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] },
    ],
  };
}

function sendJson(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function sendStatus(res: ServerResponse, code: number, reason: string, message: string, details?: object): void {
  res
    .writeHead(code, { 'content-type': 'application/json' })
    .end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code }));
}
