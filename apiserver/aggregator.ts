/**
 * The API aggregation layer (kube-aggregator, reduced): API groups served by another process are proxied
 * to it, and their discovery is merged into the apiserver's own. kubelab's one aggregated group is
 * `metrics.k8s.io/v1beta1`, served by the controller-manager's metrics scraper; where it runs is read from
 * Endpoints `kube-system/metrics-server` (as kube-aggregator with --enable-aggregator-routing). The
 * APIService registrations are data here rather than stored objects (see docs/metrics.md).
 */
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { ApiError } from '../api/errors.js';
import type { core } from '../api/types.js';
import type { Registry } from './registry.js';

/** An aggregated group/version and the Service that serves it (an APIService's spec). */
export interface APIServiceRef {
  readonly group: string;
  readonly version: string;
  readonly service: { readonly namespace: string; readonly name: string };
}

export const APISERVICES: readonly APIServiceRef[] = [{ group: 'metrics.k8s.io', version: 'v1beta1', service: { namespace: 'kube-system', name: 'metrics-server' } }];

/** An APIResourceList entry as discovery serves it. */
export interface DiscoveredResource {
  name: string;
  singularName?: string;
  namespaced: boolean;
  kind: string;
  verbs: string[];
}

/** An available aggregated group/version with the resources its backend reported. */
export interface AggregatedGroup {
  readonly ref: APIServiceRef;
  readonly resources: readonly DiscoveredResource[];
}

const DISCOVERY_TTL_MS = 5_000;
const BACKEND_TIMEOUT_MS = 2_000;

/** Parses a backend's APIResourceList; resources that are not well-formed are left out. */
export function parseResourceList(body: unknown): DiscoveredResource[] {
  const list = (body as { resources?: unknown } | null)?.resources;
  if (!Array.isArray(list)) return [];
  const out: DiscoveredResource[] = [];
  for (const r of list as unknown[]) {
    const o = r as Partial<Record<keyof DiscoveredResource, unknown>> | null;
    if (!o || typeof o.name !== 'string' || typeof o.kind !== 'string' || typeof o.namespaced !== 'boolean' || !Array.isArray(o.verbs)) continue;
    out.push({ name: o.name, kind: o.kind, namespaced: o.namespaced, verbs: o.verbs.filter((v): v is string => typeof v === 'string'), ...(typeof o.singularName === 'string' ? { singularName: o.singularName } : {}) });
  }
  return out;
}

export class Aggregator {
  private cache?: { at: number; groups: AggregatedGroup[] };
  private pending?: Promise<AggregatedGroup[]>;

  constructor(
    private readonly registry: Registry,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** The APIService a request path belongs to (`/apis/<group>` or below). */
  match(path: string): APIServiceRef | undefined {
    return APISERVICES.find((a) => path === `/apis/${a.group}` || path.startsWith(`/apis/${a.group}/`));
  }

  /** `http://ip:port` of a ready endpoint of the APIService's Service; undefined when none. */
  async backend(ref: APIServiceRef): Promise<string | undefined> {
    let ep: core.Endpoints;
    try {
      ep = (await this.registry.get('endpoints', ref.service.namespace, ref.service.name)) as core.Endpoints;
    } catch {
      return undefined;
    }
    for (const s of ep.subsets ?? []) {
      const ip = s.addresses?.[0]?.ip;
      const port = s.ports?.[0]?.port;
      if (ip && port) return `http://${ip}:${port}`;
    }
    return undefined;
  }

  /** Proxies a request to the group's backend; 503 when it has none or it does not answer. */
  async proxy(ref: APIServiceRef, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const base = await this.backend(ref);
    if (!base) throw unavailable(ref);
    const target = new URL(req.url ?? '/', base);
    await new Promise<void>((resolve, reject) => {
      const out = httpRequest(target, { method: req.method, headers: { accept: req.headers.accept ?? 'application/json' }, timeout: 30_000 }, (up) => {
        res.writeHead(up.statusCode ?? 502, { 'content-type': up.headers['content-type'] ?? 'application/json' });
        up.pipe(res);
        up.on('end', resolve);
        up.on('error', reject);
      });
      out.on('timeout', () => out.destroy(new Error('backend timed out')));
      out.on('error', (err) => {
        this.log.warn({ group: ref.group, backend: base, err: err.message }, 'aggregated API backend failed');
        reject(unavailable(ref));
      });
      req.pipe(out);
    });
  }

  /** The aggregated groups whose backend answers discovery (cached a few seconds, as kube-aggregator polls). */
  async available(): Promise<AggregatedGroup[]> {
    if (this.cache && this.now() - this.cache.at < DISCOVERY_TTL_MS) return this.cache.groups;
    this.pending ??= this.discover().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async discover(): Promise<AggregatedGroup[]> {
    const groups: AggregatedGroup[] = [];
    for (const ref of APISERVICES) {
      const base = await this.backend(ref);
      if (!base) continue;
      try {
        const res = await fetch(`${base}/apis/${ref.group}/${ref.version}`, { signal: AbortSignal.timeout(BACKEND_TIMEOUT_MS) });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const resources = parseResourceList(await res.json());
        if (resources.length) groups.push({ ref, resources });
      } catch (err) {
        this.log.debug({ group: ref.group, backend: base, err: (err as Error).message }, 'aggregated API discovery failed');
      }
    }
    this.cache = { at: this.now(), groups };
    return groups;
  }
}

function unavailable(ref: APIServiceRef): ApiError {
  return new ApiError('ServiceUnavailable', `the server is currently unable to handle the request (${ref.version}.${ref.group} has no available backend)`);
}
