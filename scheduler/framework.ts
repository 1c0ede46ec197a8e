/**
 * The scheduling framework's data model, as kube-scheduler's: a Filter plugin is a pure function of a
 * precomputed PodInfo and NodeInfo returning a Status (fits / unschedulable with reasons / error), never
 * throwing; a Score plugin rates a feasible node 0..100. Everything a plugin reads is precomputed once per
 * pod (PodInfo) or maintained incrementally per node (NodeInfo), so that a plugin call is a few field reads.
 */
import type { core } from '../api/types.js';
import type { NodeSelectorTerm } from 'kubernetes-types/core/v1.js';
import type { Selector } from '../api/selectors.js';

/** Unschedulable can be fixed by preemption or freed resources; UnschedulableAndUnresolvable cannot. */
export type StatusCode = 'Success' | 'Unschedulable' | 'UnschedulableAndUnresolvable' | 'Error';

export interface Status {
  readonly code: StatusCode;
  /** Human-readable reasons, in kube-scheduler's wording ("Insufficient cpu"); counted across nodes. */
  readonly reasons: readonly string[];
}

/** The shared success value: filters run ~10^5 times a second, so they must not allocate on success. */
export const SUCCESS: Status = Object.freeze({ code: 'Success', reasons: Object.freeze([]) as readonly string[] });

export function unschedulable(...reasons: string[]): Status {
  return { code: 'Unschedulable', reasons };
}

export function unresolvable(...reasons: string[]): Status {
  return { code: 'UnschedulableAndUnresolvable', reasons };
}

export function errorStatus(reason: string): Status {
  return { code: 'Error', reasons: [reason] };
}

export interface HostPort {
  readonly protocol: string;
  readonly port: number;
  /** '0.0.0.0' when the pod did not name a host IP. */
  readonly ip: string;
}

export interface PreferredTerm {
  readonly weight: number;
  readonly term: NodeSelectorTerm;
}

/** Labels of a namespace by name (undefined when unknown), for namespaceSelector in pod affinity terms. */
export type NamespaceLabels = (namespace: string) => Readonly<Record<string, string>> | undefined;

/** A compiled PodAffinityTerm: which pods it selects and over which node label a "same place" is defined. */
export interface AffinityTerm {
  /** Pods selected by labels; undefined (no labelSelector) selects no pod, as in Kubernetes. */
  readonly selector?: Selector;
  /** Namespaces named by the term, or the owner pod's own namespace when it names none and has no namespaceSelector. */
  readonly namespaces: ReadonlySet<string>;
  /** Present when the term has a namespaceSelector; an empty one selects every namespace. */
  readonly namespaceSelector?: Selector;
  readonly namespaceLabels?: NamespaceLabels;
  readonly topologyKey: string;
}

export interface WeightedAffinityTerm {
  readonly weight: number;
  readonly term: AffinityTerm;
}

/** A pod's inter-pod (anti-)affinity; PodInfo carries it only when at least one list is non-empty. */
export interface PodAffinityInfo {
  readonly required: readonly AffinityTerm[];
  readonly requiredAnti: readonly AffinityTerm[];
  readonly preferred: readonly WeightedAffinityTerm[];
  readonly preferredAnti: readonly WeightedAffinityTerm[];
}

/** A compiled topologySpreadConstraint (labelSelector merged with matchLabelKeys, defaults filled). */
export interface SpreadConstraint {
  readonly maxSkew: number;
  readonly topologyKey: string;
  readonly whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway';
  /** undefined (no labelSelector) counts no pod. */
  readonly selector?: Selector;
  /** Fewer eligible domains than this make the global minimum 0 (Kubernetes' default 1). */
  readonly minDomains: number;
  /** nodeAffinityPolicy Honor (default): only nodes matching the pod's nodeSelector/affinity count. */
  readonly honorNodeAffinity: boolean;
  /** nodeTaintsPolicy Honor (default Ignore): only nodes whose taints the pod tolerates count. */
  readonly honorNodeTaints: boolean;
}

/** Everything the plugins need to know about a pod, computed once per scheduling attempt. */
export interface PodInfo {
  readonly key: string;
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly pod: core.Pod;
  readonly priority: number;
  /** Effective requests: max(sum of containers, largest init container) + overhead. cpu in millicores. */
  readonly cpu: number;
  readonly memory: number;
  readonly ephemeral: number;
  /** Other requested resources (extended resources), by name. */
  readonly scalars: ReadonlyMap<string, number>;
  /** Requests with kube-scheduler's defaults for unset cpu/memory (100m, 200Mi), used only for scoring. */
  readonly nonZeroCpu: number;
  readonly nonZeroMemory: number;
  readonly hostPorts: readonly HostPort[];
  readonly tolerations: readonly core.Toleration[];
  readonly nodeSelector?: Readonly<Record<string, string>>;
  /** Required node affinity terms (ORed); undefined when none. */
  readonly requiredTerms?: readonly NodeSelectorTerm[];
  readonly preferredTerms: readonly PreferredTerm[];
  /** Spread groups: `owner:<controller uid>` and `svc:<ns>/<name>` for each Service selecting the pod. */
  readonly groups: readonly string[];
  readonly nodeName?: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Inter-pod affinity and anti-affinity; undefined when the pod has none (the common, cheap case). */
  readonly podAffinity?: PodAffinityInfo;
  /** topologySpreadConstraints with DoNotSchedule (filter) and ScheduleAnyway (score); undefined when none. */
  readonly hardSpread?: readonly SpreadConstraint[];
  readonly softSpread?: readonly SpreadConstraint[];
}

export interface Allocatable {
  cpu: number;
  memory: number;
  ephemeral: number;
  pods: number;
  scalars: Map<string, number>;
}

/** A node plus the aggregates of the pods assigned (or assumed) to it, kept incrementally. */
export interface NodeInfo {
  readonly name: string;
  node: core.Node;
  labels: Readonly<Record<string, string>>;
  taints: readonly core.Taint[];
  unschedulable: boolean;
  ready: boolean;
  allocatable: Allocatable;
  requestedCpu: number;
  requestedMemory: number;
  requestedEphemeral: number;
  requestedScalars: Map<string, number>;
  nonZeroCpu: number;
  nonZeroMemory: number;
  podCount: number;
  /** `${protocol}/${port}` → host IP → number of pods using it. */
  usedPorts: Map<string, Map<string, number>>;
  /** Spread group → number of pods on this node in it. */
  groupCounts: Map<string, number>;
  pods: Map<string, PodInfo>;
  /** The pods with any inter-pod (anti-)affinity term, and those with required anti-affinity (by uid). */
  podsWithAffinity: Map<string, PodInfo>;
  podsWithRequiredAntiAffinity: Map<string, PodInfo>;
}

/**
 * A filter plugin. `preFilter`, when present, runs once per scheduling attempt over all nodes (kube-scheduler's
 * PreFilter) and its result is handed to every `filter` call of that attempt; returning undefined means the
 * plugin has nothing to check for this pod and `filter` is skipped.
 */
export interface FilterPlugin<S = unknown> {
  readonly name: string;
  preFilter?(pod: PodInfo, nodes: readonly NodeInfo[]): S | undefined;
  filter(pod: PodInfo, node: NodeInfo, state: S): Status;
}

/**
 * A score plugin rates every feasible node for the pod: `score` writes a raw score per node into `out`
 * (same order as `nodes`); `normalizeScore`, when present (kube-scheduler's ScoreExtensions), rescales them
 * in place to 0..MAX_NODE_SCORE once all are known. Without it the raw scores must already be 0..100.
 * `allNodes` is every node of the cluster, for plugins that count pods per topology domain.
 */
export interface ScorePlugin {
  readonly name: string;
  readonly weight: number;
  /** Cheap check that lets the framework skip the plugin (e.g. no preferred terms). */
  relevant?(pod: PodInfo): boolean;
  score(pod: PodInfo, nodes: readonly NodeInfo[], out: Float64Array, allNodes: readonly NodeInfo[]): void;
  normalizeScore?(pod: PodInfo, nodes: readonly NodeInfo[], out: Float64Array): void;
}

export const MAX_NODE_SCORE = 100;

/**
 * kube-scheduler's helper.DefaultNormalizeScore: scales the raw scores so the highest becomes 100; with
 * `reverse` the lowest does (score = 100 − scaled). All zero: 0 each, or 100 each with `reverse`.
 */
export function defaultNormalizeScore(reverse: boolean): NonNullable<ScorePlugin['normalizeScore']> {
  return (_pod, _nodes, out) => {
    let max = 0;
    for (let i = 0; i < out.length; i++) if (out[i] > max) max = out[i];
    for (let i = 0; i < out.length; i++) {
      if (max === 0) out[i] = reverse ? MAX_NODE_SCORE : 0;
      else out[i] = reverse ? MAX_NODE_SCORE - (out[i] * MAX_NODE_SCORE) / max : (out[i] * MAX_NODE_SCORE) / max;
    }
  };
}

/** Runs one score plugin over the feasible nodes as the framework does: Score, then NormalizeScore. */
export function runScorePlugin(plugin: ScorePlugin, pod: PodInfo, nodes: readonly NodeInfo[], out: Float64Array, allNodes: readonly NodeInfo[] = nodes): void {
  plugin.score(pod, nodes, out, allNodes);
  plugin.normalizeScore?.(pod, nodes, out);
}
