/**
 * PodInfo: the per-pod facts the plugins read, computed once (requests with the init-container max rule,
 * host ports, compiled affinity, spread groups), so filters over a thousand nodes stay cheap.
 */
import type { core } from '../client/types.js';
import { cpuMillis, quantityValue } from '../client/quantity.js';
import { controllerRef } from '../client/objects.js';
import { keyOf, type KObject } from '../client/types.js';
import type { HostPort, PodInfo, PreferredTerm } from './framework.js';

/** kube-scheduler's defaults for pods that request nothing, so that LeastAllocated still spreads them. */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

export interface Requests {
  cpu: number;
  memory: number;
  ephemeral: number;
  scalars: Map<string, number>;
}

function emptyRequests(): Requests {
  return { cpu: 0, memory: 0, ephemeral: 0, scalars: new Map() };
}

function addResourceList(into: Requests, list: Record<string, string | number> | undefined): void {
  if (!list) return;
  for (const [name, q] of Object.entries(list)) {
    if (name === 'cpu') into.cpu += cpuMillis(q);
    else if (name === 'memory') into.memory += quantityValue(q);
    else if (name === 'ephemeral-storage') into.ephemeral += quantityValue(q);
    else if (name !== 'pods') into.scalars.set(name, (into.scalars.get(name) ?? 0) + quantityValue(q));
  }
}

function maxInto(into: Requests, other: Requests): void {
  into.cpu = Math.max(into.cpu, other.cpu);
  into.memory = Math.max(into.memory, other.memory);
  into.ephemeral = Math.max(into.ephemeral, other.ephemeral);
  for (const [k, v] of other.scalars) into.scalars.set(k, Math.max(into.scalars.get(k) ?? 0, v));
}

/**
 * Effective pod requests as Kubernetes computes them: init containers run one at a time before the app
 * containers, so the pod needs max(sum of app containers, largest init container), plus pod overhead.
 */
export function podRequests(spec: core.PodSpec | undefined): Requests {
  const sum = emptyRequests();
  for (const c of spec?.containers ?? []) addResourceList(sum, c.resources?.requests as Record<string, string> | undefined);
  for (const ic of spec?.initContainers ?? []) {
    const one = emptyRequests();
    addResourceList(one, ic.resources?.requests as Record<string, string> | undefined);
    maxInto(sum, one);
  }
  addResourceList(sum, spec?.overhead as Record<string, string> | undefined);
  return sum;
}

function nonZero(spec: core.PodSpec | undefined): { cpu: number; memory: number } {
  let cpu = 0;
  let memory = 0;
  for (const c of spec?.containers ?? []) {
    const r = c.resources?.requests as Record<string, string> | undefined;
    cpu += r?.cpu !== undefined ? cpuMillis(r.cpu) : DEFAULT_MILLI_CPU_REQUEST;
    memory += r?.memory !== undefined ? quantityValue(r.memory) : DEFAULT_MEMORY_REQUEST;
  }
  return { cpu, memory };
}

export function podHostPorts(spec: core.PodSpec | undefined): HostPort[] {
  const out: HostPort[] = [];
  for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])])
    for (const p of c.ports ?? []) if (p.hostPort) out.push({ protocol: p.protocol ?? 'TCP', port: p.hostPort, ip: p.hostIP || '0.0.0.0' });
  return out;
}

/** Label selectors of the Services that could select a pod, by namespace (kept by the scheduler). */
export type ServiceSelectors = (namespace: string) => Iterable<{ key: string; selector: Record<string, string> }>;

export function spreadGroups(pod: core.Pod, services?: ServiceSelectors): string[] {
  const groups: string[] = [];
  const owner = controllerRef(pod as unknown as KObject);
  if (owner?.uid) groups.push(`owner:${owner.uid}`);
  if (services) {
    const labels = pod.metadata?.labels ?? {};
    for (const svc of services(pod.metadata?.namespace ?? '')) {
      const entries = Object.entries(svc.selector);
      if (entries.length > 0 && entries.every(([k, v]) => labels[k] === v)) groups.push(`svc:${svc.key}`);
    }
  }
  return groups;
}

export function newPodInfo(pod: core.Pod, services?: ServiceSelectors): PodInfo {
  const spec = pod.spec;
  const req = podRequests(spec);
  const nz = nonZero(spec);
  const affinity = spec?.affinity?.nodeAffinity;
  const required = affinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  const preferred: PreferredTerm[] = (affinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [])
    .filter((p) => p.weight > 0)
    .map((p) => ({ weight: p.weight, term: p.preference }));
  return {
    key: keyOf(pod),
    uid: pod.metadata?.uid ?? '',
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    pod,
    priority: spec?.priority ?? 0,
    cpu: req.cpu,
    memory: req.memory,
    ephemeral: req.ephemeral,
    scalars: req.scalars,
    nonZeroCpu: nz.cpu,
    nonZeroMemory: nz.memory,
    hostPorts: podHostPorts(spec),
    tolerations: spec?.tolerations ?? [],
    nodeSelector: spec?.nodeSelector && Object.keys(spec.nodeSelector).length > 0 ? spec.nodeSelector : undefined,
    requiredTerms: required,
    preferredTerms: preferred,
    groups: spreadGroups(pod, services),
    nodeName: spec?.nodeName || undefined,
  };
}
