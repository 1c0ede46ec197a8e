/**
 * PodTopologySpread, as kube-scheduler's: for each `topologySpreadConstraints` entry, pods matching its
 * labelSelector in the pod's namespace are counted per topology domain (nodes sharing the value of
 * `topologyKey`), over the nodes that carry every constraint's key and pass the inclusion policies
 * (nodeAffinityPolicy Honor / nodeTaintsPolicy Ignore by default). DoNotSchedule constraints filter:
 * a node is rejected when `matching in its domain + (1 if the pod matches itself) − global minimum >
 * maxSkew`, and a node lacking the key is rejected outright. ScheduleAnyway constraints score: fewer
 * matching pods in a node's domain score higher. Kubernetes' cluster-default constraints are not applied
 * (kubelab keeps the older SelectorSpread score for pods without constraints).
 */
import { matchesLabels } from '../../api/selectors.js';
import {
  MAX_NODE_SCORE,
  SUCCESS,
  unresolvable,
  unschedulable,
  type FilterPlugin,
  type NodeInfo,
  type PodInfo,
  type ScorePlugin,
  type SpreadConstraint,
  type Status,
} from '../framework.js';
import { nodeAffinity } from './nodeaffinity.js';
import { taintToleration } from './tainttoleration.js';

export const ERR_SPREAD_CONSTRAINTS = "node(s) didn't match pod topology spread constraints";
export const ERR_SPREAD_MISSING_LABEL = `${ERR_SPREAD_CONSTRAINTS} (missing required label)`;

const HOSTNAME = 'kubernetes.io/hostname';

export function hasAllTopologyKeys(node: NodeInfo, constraints: readonly SpreadConstraint[]): boolean {
  for (const c of constraints) if (node.labels[c.topologyKey] === undefined) return false;
  return true;
}

/** Whether the node's domain counts for the constraint (nodeAffinityPolicy / nodeTaintsPolicy). */
export function nodeIncluded(c: SpreadConstraint, pod: PodInfo, node: NodeInfo): boolean {
  if (c.honorNodeAffinity && nodeAffinity(pod, node).code !== 'Success') return false;
  if (c.honorNodeTaints && taintToleration(pod, node).code !== 'Success') return false;
  return true;
}

/** Pods on the node in `namespace` selected by the constraint; terminating pods do not count. */
export function countMatching(node: NodeInfo, c: SpreadConstraint, namespace: string): number {
  if (!c.selector) return 0;
  let n = 0;
  for (const p of node.pods.values()) {
    if (p.namespace !== namespace || p.pod.metadata?.deletionTimestamp) continue;
    if (matchesLabels(c.selector, p.labels)) n++;
  }
  return n;
}

/** Matching pods per domain value for each DoNotSchedule constraint, and the minimum the skew is measured from. */
export interface SpreadFilterState {
  readonly constraints: readonly SpreadConstraint[];
  readonly counts: readonly Map<string, number>[];
  readonly minMatch: readonly number[];
  readonly selfMatch: readonly number[];
}

/** kube-scheduler's PreFilter for the DoNotSchedule constraints; undefined when the pod has none. */
export function preFilterSpread(pod: PodInfo, nodes: readonly NodeInfo[]): SpreadFilterState | undefined {
  const cs = pod.hardSpread;
  if (!cs) return undefined;
  const counts = cs.map(() => new Map<string, number>());
  for (const node of nodes) {
    if (!hasAllTopologyKeys(node, cs)) continue;
    for (let i = 0; i < cs.length; i++) {
      if (!nodeIncluded(cs[i], pod, node)) continue;
      const v = node.labels[cs[i].topologyKey];
      counts[i].set(v, (counts[i].get(v) ?? 0) + countMatching(node, cs[i], pod.namespace));
    }
  }
  const minMatch = cs.map((c, i) => {
    // Fewer eligible domains than minDomains: the global minimum is taken as 0, so at most maxSkew pods
    // go to the existing domains until new ones appear.
    if (counts[i].size < c.minDomains) return 0;
    let min = Infinity;
    for (const n of counts[i].values()) if (n < min) min = n;
    return min;
  });
  const selfMatch = cs.map((c) => (c.selector && matchesLabels(c.selector, pod.labels) ? 1 : 0));
  return { constraints: cs, counts, minMatch, selfMatch };
}

export function filterSpread(_pod: PodInfo, node: NodeInfo, s: SpreadFilterState): Status {
  for (let i = 0; i < s.constraints.length; i++) {
    const c = s.constraints[i];
    const v = node.labels[c.topologyKey];
    if (v === undefined) return unresolvable(ERR_SPREAD_MISSING_LABEL);
    const skew = (s.counts[i].get(v) ?? 0) + s.selfMatch[i] - s.minMatch[i];
    if (skew > c.maxSkew) return unschedulable(ERR_SPREAD_CONSTRAINTS);
  }
  return SUCCESS;
}

/**
 * ScheduleAnyway constraints: each node scores Σ matching-in-domain × log(domains + 2) + (maxSkew − 1); the
 * result is inverted and scaled so the emptiest domain scores 100. Feasible nodes lacking a topology key
 * score 0. Domains are those of the feasible nodes; pods are counted over all nodes (as kube-scheduler).
 */
export function scoreTopologySpread(pod: PodInfo, nodes: readonly NodeInfo[], out: Float64Array, allNodes: readonly NodeInfo[] = nodes): void {
  const cs = pod.softSpread ?? [];
  const ignored = nodes.map((n) => !hasAllTopologyKeys(n, cs));
  const counts = cs.map(() => new Map<string, number>());
  const sizes = cs.map(() => 0);
  let considered = 0;
  for (let j = 0; j < nodes.length; j++) {
    if (ignored[j]) continue;
    considered++;
    for (let i = 0; i < cs.length; i++) {
      if (cs[i].topologyKey === HOSTNAME) continue; // counted per node below
      const v = nodes[j].labels[cs[i].topologyKey];
      if (!counts[i].has(v)) {
        counts[i].set(v, 0);
        sizes[i]++;
      }
    }
  }
  const weights = cs.map((c, i) => Math.log((c.topologyKey === HOSTNAME ? considered : sizes[i]) + 2));
  for (const node of allNodes) {
    if (!hasAllTopologyKeys(node, cs)) continue;
    for (let i = 0; i < cs.length; i++) {
      if (cs[i].topologyKey === HOSTNAME || !nodeIncluded(cs[i], pod, node)) continue;
      const v = node.labels[cs[i].topologyKey];
      const cur = counts[i].get(v);
      if (cur !== undefined) counts[i].set(v, cur + countMatching(node, cs[i], pod.namespace));
    }
  }
  for (let j = 0; j < nodes.length; j++) {
    if (ignored[j]) {
      out[j] = 0;
      continue;
    }
    let s = 0;
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i];
      const cnt = c.topologyKey === HOSTNAME ? countMatching(nodes[j], c, pod.namespace) : (counts[i].get(nodes[j].labels[c.topologyKey]) ?? 0);
      s += cnt * weights[i] + (c.maxSkew - 1);
    }
    out[j] = Math.round(s);
  }
}

/**
 * kube-scheduler's PodTopologySpread NormalizeScore: inverted and scaled over the nodes that have every
 * topology key (the emptiest domain scores 100); the others score 0.
 */
export function normalizeTopologySpread(pod: PodInfo, nodes: readonly NodeInfo[], out: Float64Array): void {
  const cs = pod.softSpread ?? [];
  const considered = nodes.map((n) => hasAllTopologyKeys(n, cs));
  let min = Infinity;
  let max = 0;
  for (let j = 0; j < nodes.length; j++) {
    if (!considered[j]) continue;
    if (out[j] < min) min = out[j];
    if (out[j] > max) max = out[j];
  }
  for (let j = 0; j < nodes.length; j++) {
    if (!considered[j]) out[j] = 0;
    else out[j] = max === 0 ? MAX_NODE_SCORE : Math.trunc((MAX_NODE_SCORE * (max + min - out[j])) / max);
  }
}

export const PodTopologySpread: FilterPlugin<SpreadFilterState> = {
  name: 'PodTopologySpread',
  preFilter: preFilterSpread,
  filter: filterSpread,
};

export const PodTopologySpreadScore: ScorePlugin = {
  name: 'PodTopologySpread',
  weight: 2,
  relevant: (pod) => pod.softSpread !== undefined,
  score: scoreTopologySpread,
  normalizeScore: normalizeTopologySpread,
};
