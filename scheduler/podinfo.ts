/**
 * PodInfo: the per-pod facts the plugins read, computed once (requests with the init-container max rule,
 * host ports, compiled affinity, spread groups), so filters over a thousand nodes stay cheap.
 */
import type { core } from '../api/types.js';
import { cpuMillis, quantityValue } from '../api/quantity.js';
import { podRequests } from '../api/podresources.js';
import { controllerRef } from '../api/objects.js';
import { keyOf, type KObject } from '../api/types.js';
import { fromLabelSelector, type Requirement, type Selector } from '../api/selectors.js';
import type {
  AffinityTerm,
  HostPort,
  NamespaceLabels,
  PodAffinityInfo,
  PodInfo,
  PreferredTerm,
  SpreadConstraint,
  WeightedAffinityTerm,
} from './framework.js';

/** kube-scheduler's defaults for pods that request nothing, so that LeastAllocated still spreads them. */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

export { podRequests, type Requests } from '../api/podresources.js';

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

/**
 * A label selector plus `key in (value)` for each matchLabelKeys key and `key notin (value)` for each
 * mismatchLabelKeys key the owner pod has. A missing or unparsable selector selects nothing (undefined): the
 * scheduler must not crash on a pod, and Kubernetes selects nothing for a nil selector too.
 */
export function compileSelector(
  sel: core.PodAffinityTerm['labelSelector'],
  ownerLabels: Readonly<Record<string, string>>,
  matchLabelKeys: readonly string[] = [],
  mismatchLabelKeys: readonly string[] = [],
): Selector | undefined {
  let base: Selector | undefined;
  try {
    base = fromLabelSelector(sel);
  } catch {
    return undefined;
  }
  if (!base) return undefined;
  const extra: Requirement[] = [];
  for (const k of matchLabelKeys) if (k in ownerLabels) extra.push({ key: k, op: 'In', values: [ownerLabels[k]] });
  for (const k of mismatchLabelKeys) if (k in ownerLabels) extra.push({ key: k, op: 'NotIn', values: [ownerLabels[k]] });
  return extra.length > 0 ? [...base, ...extra] : base;
}

/** A selector no label set satisfies (an unparsable namespaceSelector must not select every namespace). */
const SELECTS_NOTHING: Selector = [{ key: '', op: 'In', values: [] }];

/**
 * Compiles a PodAffinityTerm of `pod`, as kube-scheduler's AffinityTerm: no namespaces and no
 * namespaceSelector mean the pod's own namespace; a namespaceSelector adds the namespaces it selects.
 */
export function compileAffinityTerm(pod: core.Pod, t: core.PodAffinityTerm, namespaceLabels?: NamespaceLabels): AffinityTerm {
  const labels = pod.metadata?.labels ?? {};
  const named = t.namespaces ?? [];
  const namespaceSelector = t.namespaceSelector ? (compileSelector(t.namespaceSelector, {}) ?? SELECTS_NOTHING) : undefined;
  const namespaces = new Set(named.length === 0 && !t.namespaceSelector ? [pod.metadata?.namespace ?? ''] : named);
  return {
    selector: compileSelector(t.labelSelector, labels, t.matchLabelKeys, t.mismatchLabelKeys),
    namespaces,
    ...(namespaceSelector ? { namespaceSelector, namespaceLabels } : {}),
    topologyKey: t.topologyKey,
  };
}

function weighted(pod: core.Pod, terms: core.WeightedPodAffinityTerm[] | undefined, nsl?: NamespaceLabels): WeightedAffinityTerm[] {
  return (terms ?? []).filter((w) => w.weight > 0).map((w) => ({ weight: w.weight, term: compileAffinityTerm(pod, w.podAffinityTerm, nsl) }));
}

/** The pod's inter-pod affinity, or undefined when it has no term at all (most pods: nothing to do). */
export function podAffinityInfo(pod: core.Pod, namespaceLabels?: NamespaceLabels): PodAffinityInfo | undefined {
  const a = pod.spec?.affinity;
  if (!a?.podAffinity && !a?.podAntiAffinity) return undefined;
  const info: PodAffinityInfo = {
    required: (a.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => compileAffinityTerm(pod, t, namespaceLabels)),
    requiredAnti: (a.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => compileAffinityTerm(pod, t, namespaceLabels)),
    preferred: weighted(pod, a.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution, namespaceLabels),
    preferredAnti: weighted(pod, a.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution, namespaceLabels),
  };
  const empty = info.required.length + info.requiredAnti.length + info.preferred.length + info.preferredAnti.length === 0;
  return empty ? undefined : info;
}

/** The pod's topology spread constraints with Kubernetes' defaults (minDomains 1, nodeAffinityPolicy Honor, nodeTaintsPolicy Ignore). */
export function spreadConstraints(pod: core.Pod): SpreadConstraint[] {
  const labels = pod.metadata?.labels ?? {};
  return (pod.spec?.topologySpreadConstraints ?? []).map((c) => ({
    maxSkew: c.maxSkew,
    topologyKey: c.topologyKey,
    whenUnsatisfiable: c.whenUnsatisfiable === 'ScheduleAnyway' ? 'ScheduleAnyway' : 'DoNotSchedule',
    selector: compileSelector(c.labelSelector, labels, c.matchLabelKeys),
    minDomains: c.minDomains ?? 1,
    honorNodeAffinity: c.nodeAffinityPolicy !== 'Ignore',
    honorNodeTaints: c.nodeTaintsPolicy === 'Honor',
  }));
}

const nonEmpty = <T>(xs: T[]): T[] | undefined => (xs.length > 0 ? xs : undefined);

export function newPodInfo(pod: core.Pod, services?: ServiceSelectors, namespaceLabels?: NamespaceLabels): PodInfo {
  const spec = pod.spec;
  const req = podRequests(spec);
  const nz = nonZero(spec);
  const affinity = spec?.affinity?.nodeAffinity;
  const required = affinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  const preferred: PreferredTerm[] = (affinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [])
    .filter((p) => p.weight > 0)
    .map((p) => ({ weight: p.weight, term: p.preference }));
  const spread = spec?.topologySpreadConstraints?.length ? spreadConstraints(pod) : undefined;
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
    labels: pod.metadata?.labels ?? {},
    podAffinity: podAffinityInfo(pod, namespaceLabels),
    hardSpread: spread && nonEmpty(spread.filter((c) => c.whenUnsatisfiable === 'DoNotSchedule')),
    softSpread: spread && nonEmpty(spread.filter((c) => c.whenUnsatisfiable === 'ScheduleAnyway')),
  };
}
