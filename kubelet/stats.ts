/**
 * The kubelet's resource summary (`GET /stats/summary`): Kubernetes' Summary API shape
 * (stats/v1alpha1), trimmed to what metrics-server reads — per node, pod and container the cumulative
 * CPU time (`usageCoreNanoSeconds`) and the memory working set, each with the time it was sampled.
 * The scraper derives CPU rates from two samples, as metrics-server does, so a reading never depends on
 * how often the kubelet was asked.
 *
 * Where the numbers come from:
 *   - Docker: the container's cgroup files when the Docker host's cgroup tree is visible (in-process
 *     kubelets; ~1.2 ms CPU per container sample here), else Docker's stats API (~5 ms CPU and ~1 s wall
 *     per sample on Docker 20.10, which waits for its own collection tick). See docs/metrics.md.
 *   - Hollow: synthetic usage from the pod's annotations (read from the latest desired pod, so changing
 *     the annotation changes the usage):
 *       kubelab.io/hollow-cpu: 250m            CPU in use by every container (or `name=250m;name2=1`)
 *       kubelab.io/hollow-memory: 64Mi         memory working set, same forms
 */
import { readFile } from 'node:fs/promises';
import type Docker from 'dockerode';
import { parseQuantity } from '../api/quantity.js';
import type { Clock } from '../component-base/clock.js';
import { realClock } from '../component-base/clock.js';
import type { core } from '../api/types.js';
import { scriptedValue } from './runtime/hollow.js';
import { SANDBOX, type Runtime, type RuntimeContainer } from './runtime/types.js';

export const USAGE_ANNOTATIONS = {
  cpu: 'kubelab.io/hollow-cpu',
  memory: 'kubelab.io/hollow-memory',
} as const;

export interface CpuStats {
  time: string;
  usageCoreNanoSeconds: number;
}

export interface MemoryStats {
  time: string;
  workingSetBytes: number;
}

export interface ContainerStats {
  name: string;
  startTime: string;
  cpu: CpuStats;
  memory: MemoryStats;
}

export interface PodStats {
  podRef: { name: string; namespace: string; uid: string };
  startTime: string;
  containers: ContainerStats[];
  cpu: CpuStats;
  memory: MemoryStats;
}

/** `/stats/summary` (stats/v1alpha1 Summary, trimmed). */
export interface Summary {
  node: { nodeName: string; startTime: string; cpu: CpuStats; memory: MemoryStats };
  pods: PodStats[];
}

/** One container's cumulative usage at one instant. */
export interface Usage {
  /** ms since the epoch. */
  at: number;
  cpuCoreNanoSeconds: number;
  workingSetBytes: number;
}

/** Reads a running container's usage; undefined when it cannot be read (gone meanwhile). */
export type UsageReader = (c: RuntimeContainer, pod: core.Pod | undefined) => Promise<Usage | undefined>;

export interface SummaryOptions {
  nodeName: string;
  runtime: Pick<Runtime, 'list'>;
  read: UsageReader;
  lookupPod: (namespace: string, name: string) => core.Pod | undefined;
  clock?: Clock;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Builds the summary of every running app container on the node (sandboxes are not reported). */
export async function buildSummary(o: SummaryOptions): Promise<Summary> {
  const clock = o.clock ?? realClock;
  const now = clock.now();
  const running = (await o.runtime.list()).filter((c) => c.state === 'running' && c.name !== SANDBOX);
  const byPod = new Map<string, { ref: PodStats['podRef']; containers: ContainerStats[]; start: number }>();
  const read = await Promise.all(running.map(async (c) => ({ c, u: await o.read(c, o.lookupPod(c.namespace, c.podName)).catch(() => undefined) })));
  for (const { c, u } of read) {
    if (!u) continue;
    let p = byPod.get(c.podUid);
    if (!p) {
      p = { ref: { name: c.podName, namespace: c.namespace, uid: c.podUid }, containers: [], start: c.createdAt };
      byPod.set(c.podUid, p);
    }
    p.start = Math.min(p.start, c.createdAt);
    p.containers.push({
      name: c.name,
      startTime: iso(c.startedAt ?? c.createdAt),
      cpu: { time: iso(u.at), usageCoreNanoSeconds: u.cpuCoreNanoSeconds },
      memory: { time: iso(u.at), workingSetBytes: u.workingSetBytes },
    });
  }
  const pods: PodStats[] = [];
  let nodeCpu = 0;
  let nodeMem = 0;
  for (const p of byPod.values()) {
    const cpu = p.containers.reduce((s, c) => s + c.cpu.usageCoreNanoSeconds, 0);
    const mem = p.containers.reduce((s, c) => s + c.memory.workingSetBytes, 0);
    nodeCpu += cpu;
    nodeMem += mem;
    pods.push({ podRef: p.ref, startTime: iso(p.start), containers: p.containers, cpu: { time: iso(now), usageCoreNanoSeconds: cpu }, memory: { time: iso(now), workingSetBytes: mem } });
  }
  // The node's usage is the sum of its pods' (kubelab nodes share one Docker host: there is no node cgroup
  // of our own to read). Cumulative CPU of exited containers drops out, which the scraper tolerates.
  return {
    node: { nodeName: o.nodeName, startTime: iso(now), cpu: { time: iso(now), usageCoreNanoSeconds: nodeCpu }, memory: { time: iso(now), workingSetBytes: nodeMem } },
    pods,
  };
}

/**
 * Hollow usage: the annotated rate, integrated over time into a cumulative CPU counter per container
 * (so that a changed annotation changes the rate the scraper derives, never makes the counter go back).
 */
export function hollowUsageReader(clock: Clock = realClock): UsageReader {
  const counters = new Map<string, { at: number; total: number; rate: number }>();
  return (c, pod) => {
    const now = clock.now();
    const ann = pod?.metadata?.annotations;
    const cores = quantityOr0(scriptedValue(ann, USAGE_ANNOTATIONS.cpu, c.name));
    const mem = quantityOr0(scriptedValue(ann, USAGE_ANNOTATIONS.memory, c.name));
    const prev = counters.get(c.id) ?? { at: c.startedAt ?? now, total: 0, rate: cores };
    const total = prev.total + Math.max(0, now - prev.at) * 1e6 * prev.rate;
    counters.set(c.id, { at: now, total, rate: cores });
    if (counters.size > 10_000) for (const k of [...counters.keys()].slice(0, 5_000)) counters.delete(k);
    return Promise.resolve({ at: now, cpuCoreNanoSeconds: Math.round(total), workingSetBytes: Math.round(mem) });
  };
}

function quantityOr0(v: string | undefined): number {
  if (v === undefined) return 0;
  try {
    const n = parseQuantity(v);
    return Number.isFinite(n) && n >= 0 ? n : 0;
  } catch {
    return 0;
  }
}

/** Docker's stats document, as much of it as is read (cgroup v1 and v2 field names). */
export interface DockerStats {
  read?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; stats?: Record<string, number | undefined> };
}

/** Usage from a Docker stats document; working set = usage − inactive file pages, as cAdvisor computes it. */
export function usageFromDockerStats(s: DockerStats, fallbackAt: number): Usage | undefined {
  const cpu = s.cpu_stats?.cpu_usage?.total_usage;
  const usage = s.memory_stats?.usage;
  if (typeof cpu !== 'number' || !Number.isFinite(cpu) || typeof usage !== 'number' || !Number.isFinite(usage)) return undefined;
  const st = s.memory_stats?.stats ?? {};
  const inactive = st.total_inactive_file ?? st.inactive_file ?? 0;
  const at = s.read ? Date.parse(s.read) : NaN;
  return { at: Number.isFinite(at) && at > 0 ? at : fallbackAt, cpuCoreNanoSeconds: cpu, workingSetBytes: Math.max(0, usage - (typeof inactive === 'number' ? inactive : 0)) };
}

/** A `key value` line's value from a cgroup stat file (memory.stat). */
export function statValue(text: string, key: string): number | undefined {
  for (const line of text.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp > 0 && line.slice(0, sp) === key) {
      const n = Number(line.slice(sp + 1));
      return Number.isFinite(n) ? n : undefined;
    }
  }
  return undefined;
}

/** Parses cgroup v2 cpu.stat's `usage_usec` (µs) into ns. */
export function cpuStatNs(text: string): number | undefined {
  const us = statValue(text, 'usage_usec');
  return us === undefined ? undefined : us * 1000;
}

/**
 * Docker usage: cgroup files first (v1 cgroupfs/systemd layouts and v2), Docker's stats API when the
 * Docker host's cgroup tree is not visible from here (a kubelet in its node container).
 */
export function dockerUsageReader(docker: Docker, root = '/sys/fs/cgroup', clock: Clock = realClock): UsageReader {
  let cgroupsVisible: boolean | undefined;
  return async (c) => {
    if (cgroupsVisible !== false) {
      const u = await readCgroup(root, c.id, clock.now()).catch(() => undefined);
      if (u) {
        cgroupsVisible = true;
        return u;
      }
      // Never seen one: assume the tree is not ours to read, stop trying.
      if (cgroupsVisible === undefined) cgroupsVisible = false;
    }
    const s = (await docker.getContainer(c.id).stats({ stream: false })) as DockerStats;
    return usageFromDockerStats(s, clock.now());
  };
}

async function readCgroup(root: string, id: string, now: number): Promise<Usage | undefined> {
  for (const dir of [`${root}/cpuacct/docker/${id}`, `${root}/cpuacct/system.slice/docker-${id}.scope`]) {
    const cpu = await readFile(`${dir}/cpuacct.usage`, 'utf8').catch(() => undefined);
    if (cpu === undefined) continue;
    const memDir = dir.replace('/cpuacct/', '/memory/');
    const [usage, stat] = await Promise.all([readFile(`${memDir}/memory.usage_in_bytes`, 'utf8'), readFile(`${memDir}/memory.stat`, 'utf8')]);
    const inactive = statValue(stat, 'total_inactive_file') ?? 0;
    return { at: now, cpuCoreNanoSeconds: Number(cpu.trim()), workingSetBytes: Math.max(0, Number(usage.trim()) - inactive) };
  }
  for (const dir of [`${root}/docker/${id}`, `${root}/system.slice/docker-${id}.scope`]) {
    const cpu = await readFile(`${dir}/cpu.stat`, 'utf8').catch(() => undefined);
    if (cpu === undefined) continue;
    const [usage, stat] = await Promise.all([readFile(`${dir}/memory.current`, 'utf8'), readFile(`${dir}/memory.stat`, 'utf8')]);
    const ns = cpuStatNs(cpu);
    if (ns === undefined) return undefined;
    return { at: now, cpuCoreNanoSeconds: ns, workingSetBytes: Math.max(0, Number(usage.trim()) - (statValue(stat, 'inactive_file') ?? 0)) };
  }
  return undefined;
}
