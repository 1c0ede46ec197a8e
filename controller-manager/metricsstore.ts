/**
 * The scraper's memory of the cluster's resource usage, as metrics-server keeps it: the last two samples
 * of every node and container, from which CPU rates are derived (cumulative CPU difference over the time
 * between the samples). Pure: the scraper feeds it decoded summaries, the metrics API and the HPA read it.
 */

/** A decoded kubelet summary (only what the store uses). */
export interface NodeSummary {
  nodeName: string;
  node: Sample;
  pods: { namespace: string; name: string; uid: string; containers: { name: string; sample: Sample }[] }[];
}

/** One cumulative reading. */
export interface Sample {
  /** ms since the epoch. */
  at: number;
  cpuCoreNanoSeconds: number;
  workingSetBytes: number;
}

/** Usage over a window: what NodeMetrics/PodMetrics report. */
export interface Usage {
  /** End of the window (ms since the epoch). */
  timestamp: number;
  windowMs: number;
  cpuNanoCores: number;
  memoryBytes: number;
}

export interface PodUsage {
  namespace: string;
  name: string;
  timestamp: number;
  windowMs: number;
  containers: { name: string; cpuNanoCores: number; memoryBytes: number }[];
}

/** Thrown when a kubelet's summary does not have the Summary API's shape; it costs that node's sample only. */
export class SummaryError extends Error {
  constructor(
    readonly node: string,
    message: string,
  ) {
    super(`summary of node ${node}: ${message}`);
    this.name = 'SummaryError';
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function sampleOf(node: string, where: string, o: unknown): Sample {
  if (!isRecord(o)) throw new SummaryError(node, `${where}: not an object`);
  const cpu = o.cpu;
  const mem = o.memory;
  if (!isRecord(cpu) || !isRecord(mem)) throw new SummaryError(node, `${where}: cpu and memory are required`);
  const ns = cpu.usageCoreNanoSeconds;
  const ws = mem.workingSetBytes;
  if (typeof ns !== 'number' || !Number.isFinite(ns) || ns < 0) throw new SummaryError(node, `${where}.cpu.usageCoreNanoSeconds: not a non-negative number`);
  if (typeof ws !== 'number' || !Number.isFinite(ws) || ws < 0) throw new SummaryError(node, `${where}.memory.workingSetBytes: not a non-negative number`);
  const at = typeof cpu.time === 'string' ? Date.parse(cpu.time) : NaN;
  if (!Number.isFinite(at)) throw new SummaryError(node, `${where}.cpu.time: not a timestamp`);
  return { at, cpuCoreNanoSeconds: ns, workingSetBytes: ws };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Decodes a `/stats/summary` body (already JSON-parsed) into a NodeSummary. The node's own figures must be
 * well-formed; one malformed pod or container entry is left out, the rest of the node still counts.
 */
export function decodeSummary(nodeName: string, body: unknown): NodeSummary {
  if (!isRecord(body) || !isRecord(body.node)) throw new SummaryError(nodeName, 'missing node');
  const node = sampleOf(nodeName, 'node', body.node);
  const pods: NodeSummary['pods'] = [];
  const raw = Array.isArray(body.pods) ? body.pods : [];
  for (const p of raw) {
    if (!isRecord(p) || !isRecord(p.podRef)) continue;
    const namespace = str(p.podRef.namespace);
    const name = str(p.podRef.name);
    if (!namespace || !name || !Array.isArray(p.containers)) continue;
    const containers: NodeSummary['pods'][number]['containers'] = [];
    for (const c of p.containers) {
      if (!isRecord(c) || !str(c.name)) continue;
      try {
        containers.push({ name: String(c.name), sample: sampleOf(nodeName, `pods[${namespace}/${name}].containers[${String(c.name)}]`, c) });
      } catch {
        // This container only: its neighbours are still usable.
      }
    }
    pods.push({ namespace, name, uid: str(p.podRef.uid) ?? '', containers });
  }
  return { nodeName, node, pods };
}

/** The rate between two cumulative samples; undefined when it cannot be told (same instant, counter reset). */
export function rate(prev: Sample, cur: Sample): Usage | undefined {
  const windowMs = cur.at - prev.at;
  const dcpu = cur.cpuCoreNanoSeconds - prev.cpuCoreNanoSeconds;
  if (windowMs <= 0 || dcpu < 0) return undefined;
  return { timestamp: cur.at, windowMs, cpuNanoCores: (dcpu * 1000) / windowMs, memoryBytes: cur.workingSetBytes };
}

interface NodeEntry {
  prev?: Sample;
  cur: Sample;
  /** `ns/name` → container → last two samples. */
  pods: Map<string, { namespace: string; name: string; containers: Map<string, { prev?: Sample; cur: Sample }> }>;
}

/** Latest usage per node and pod; a pod appears once two samples of each of its containers are known. */
export class MetricsStore {
  private readonly nodes = new Map<string, NodeEntry>();

  /** Records a node's summary; pods the node no longer reports are forgotten. */
  update(s: NodeSummary): void {
    const old = this.nodes.get(s.nodeName);
    const entry: NodeEntry = { prev: old?.cur, cur: s.node, pods: new Map() };
    for (const p of s.pods) {
      const key = `${p.namespace}/${p.name}`;
      const before = old?.pods.get(key);
      const containers = new Map<string, { prev?: Sample; cur: Sample }>();
      for (const c of p.containers) {
        const last = before?.containers.get(c.name)?.cur;
        // A sample no newer than the last one (a repeated answer) keeps the older baseline.
        containers.set(c.name, last && last.at >= c.sample.at ? (before?.containers.get(c.name) ?? { cur: c.sample }) : { prev: last, cur: c.sample });
      }
      entry.pods.set(key, { namespace: p.namespace, name: p.name, containers });
    }
    this.nodes.set(s.nodeName, entry);
  }

  removeNode(name: string): void {
    this.nodes.delete(name);
  }

  nodeNames(): string[] {
    return [...this.nodes.keys()];
  }

  node(name: string): Usage | undefined {
    const e = this.nodes.get(name);
    return e?.prev ? rate(e.prev, e.cur) : undefined;
  }

  /** A pod's usage; undefined until every reported container has a rate (metrics-server drops partial pods). */
  pod(namespace: string, name: string): PodUsage | undefined {
    for (const e of this.nodes.values()) {
      const p = e.pods.get(`${namespace}/${name}`);
      if (p) return podUsage(p);
    }
    return undefined;
  }

  /** Every pod with usage, optionally in one namespace. */
  pods(namespace?: string): PodUsage[] {
    const out: PodUsage[] = [];
    for (const e of this.nodes.values())
      for (const p of e.pods.values()) {
        if (namespace && p.namespace !== namespace) continue;
        const u = podUsage(p);
        if (u) out.push(u);
      }
    return out;
  }
}

function podUsage(p: { namespace: string; name: string; containers: Map<string, { prev?: Sample; cur: Sample }> }): PodUsage | undefined {
  const containers: PodUsage['containers'] = [];
  let timestamp = 0;
  let windowMs = 0;
  for (const [name, c] of p.containers) {
    const r = c.prev ? rate(c.prev, c.cur) : undefined;
    if (!r) return undefined;
    timestamp = Math.max(timestamp, r.timestamp);
    windowMs = Math.max(windowMs, r.windowMs);
    containers.push({ name, cpuNanoCores: r.cpuNanoCores, memoryBytes: r.memoryBytes });
  }
  if (containers.length === 0) return undefined;
  return { namespace: p.namespace, name: p.name, timestamp, windowMs, containers };
}
