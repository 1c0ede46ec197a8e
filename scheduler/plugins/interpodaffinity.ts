/**
 * InterPodAffinity, as kube-scheduler's: required podAffinity terms put a pod only into topology domains
 * (nodes sharing the value of `topologyKey`) that already hold a matching pod; required podAntiAffinity
 * terms keep it out of domains that do; and existing pods' required anti-affinity terms that the incoming
 * pod matches keep it out of theirs (the symmetric check). Preferred terms (and existing pods' terms
 * matching the incoming pod) add or subtract their weights per domain for the score.
 *
 * The counting over all pods happens once per pod in `preFilter`; a pod without inter-pod affinity, in a
 * cluster without pods carrying required anti-affinity, skips the plugin entirely. Assumed pods are in the
 * NodeInfos, so a burst of replicas sees the ones placed just before it.
 */
import { matchesLabels } from '../../api/selectors.js';
import {
  MAX_NODE_SCORE,
  SUCCESS,
  unresolvable,
  unschedulable,
  type AffinityTerm,
  type FilterPlugin,
  type NodeInfo,
  type PodInfo,
  type ScorePlugin,
  type Status,
  type WeightedAffinityTerm,
} from '../framework.js';

export const ERR_AFFINITY_RULES = "node(s) didn't match pod affinity rules";
export const ERR_ANTI_AFFINITY_RULES = "node(s) didn't match pod anti-affinity rules";
export const ERR_EXISTING_ANTI_AFFINITY_RULES = "node(s) didn't satisfy existing pods anti-affinity rules";

/** Kubernetes' hardPodAffinityWeight: an existing pod's required affinity term matching the incoming pod scores this. */
export const HARD_POD_AFFINITY_WEIGHT = 1;

const NO_TERMS: readonly AffinityTerm[] = [];

/** Whether `pod` is one of the pods the term selects (namespace and labels; the topology is checked apart). */
export function termMatchesPod(term: AffinityTerm, pod: PodInfo): boolean {
  if (!term.selector) return false;
  if (!term.namespaces.has(pod.namespace)) {
    const nsSel = term.namespaceSelector;
    if (!nsSel) return false;
    if (nsSel.length > 0 && !(term.namespaceLabels && matchesLabels(nsSel, term.namespaceLabels(pod.namespace)))) return false;
  }
  return matchesLabels(term.selector, pod.labels);
}

/** True iff the pod matches every term (and there is at least one), as podMatchesAllAffinityTerms. */
export function matchesAllTerms(terms: readonly AffinityTerm[], pod: PodInfo): boolean {
  if (terms.length === 0) return false;
  for (const t of terms) if (!termMatchesPod(t, pod)) return false;
  return true;
}

const pairKey = (key: string, value: string): string => `${key}\u0000${value}`;

function bump(m: Map<string, number>, node: NodeInfo, topologyKey: string): void {
  const v = node.labels[topologyKey];
  if (v === undefined) return;
  const k = pairKey(topologyKey, v);
  m.set(k, (m.get(k) ?? 0) + 1);
}

/** What the filter needs, counted once per pod over the whole cluster ("<key>\0<value>" → pods). */
export interface InterPodAffinityState {
  /** Existing pods whose required anti-affinity terms select the incoming pod, per topology pair. */
  readonly existingAnti: Map<string, number>;
  /** Existing pods matching all of the incoming pod's required affinity terms, per topology pair. */
  readonly affinity: Map<string, number>;
  /** Existing pods matching one of the incoming pod's required anti-affinity terms, per topology pair. */
  readonly anti: Map<string, number>;
  readonly required: readonly AffinityTerm[];
  readonly requiredAnti: readonly AffinityTerm[];
  /** The incoming pod matches its own affinity terms: the first pod of such a group may go anywhere. */
  readonly selfMatch: boolean;
}

/** kube-scheduler's PreFilter; undefined when there is nothing to check for this pod. */
export function preFilterInterPodAffinity(pod: PodInfo, nodes: readonly NodeInfo[]): InterPodAffinityState | undefined {
  const required = pod.podAffinity?.required ?? NO_TERMS;
  const requiredAnti = pod.podAffinity?.requiredAnti ?? NO_TERMS;
  let existingAnti: Map<string, number> | undefined;
  for (const node of nodes) {
    if (node.podsWithRequiredAntiAffinity.size === 0) continue;
    for (const other of node.podsWithRequiredAntiAffinity.values()) {
      if (other.uid === pod.uid) continue;
      for (const t of other.podAffinity?.requiredAnti ?? NO_TERMS) if (termMatchesPod(t, pod)) bump((existingAnti ??= new Map()), node, t.topologyKey);
    }
  }
  if (required.length === 0 && requiredAnti.length === 0 && !existingAnti) return undefined;
  const affinity = new Map<string, number>();
  const anti = new Map<string, number>();
  if (required.length > 0 || requiredAnti.length > 0) {
    for (const node of nodes) {
      for (const other of node.pods.values()) {
        if (other.uid === pod.uid) continue;
        if (required.length > 0 && matchesAllTerms(required, other)) for (const t of required) bump(affinity, node, t.topologyKey);
        for (const t of requiredAnti) if (termMatchesPod(t, other)) bump(anti, node, t.topologyKey);
      }
    }
  }
  return { existingAnti: existingAnti ?? new Map(), affinity, anti, required, requiredAnti, selfMatch: matchesAllTerms(required, pod) };
}

/** Every required affinity term finds a matching pod in the node's domain (or the pod is the first of its group). */
export function satisfiesPodAffinity(s: InterPodAffinityState, node: NodeInfo): boolean {
  let podsExist = true;
  for (const t of s.required) {
    const v = node.labels[t.topologyKey];
    if (v === undefined) return false; // the node must carry every topology label
    if ((s.affinity.get(pairKey(t.topologyKey, v)) ?? 0) <= 0) podsExist = false;
  }
  // No pod anywhere matches the terms yet, but this one does: without this rule the first replica of a
  // self-affine group could never be placed.
  return podsExist || (s.affinity.size === 0 && s.selfMatch);
}

export function satisfiesPodAntiAffinity(s: InterPodAffinityState, node: NodeInfo): boolean {
  for (const t of s.requiredAnti) {
    const v = node.labels[t.topologyKey];
    if (v !== undefined && (s.anti.get(pairKey(t.topologyKey, v)) ?? 0) > 0) return false;
  }
  return true;
}

export function satisfiesExistingPodsAntiAffinity(s: InterPodAffinityState, node: NodeInfo): boolean {
  if (s.existingAnti.size === 0) return true;
  for (const k in node.labels) if ((s.existingAnti.get(pairKey(k, node.labels[k])) ?? 0) > 0) return false;
  return true;
}

export function filterInterPodAffinity(_pod: PodInfo, node: NodeInfo, s: InterPodAffinityState): Status {
  if (!satisfiesPodAffinity(s, node)) return unresolvable(ERR_AFFINITY_RULES);
  if (!satisfiesPodAntiAffinity(s, node)) return unschedulable(ERR_ANTI_AFFINITY_RULES);
  if (!satisfiesExistingPodsAntiAffinity(s, node)) return unschedulable(ERR_EXISTING_ANTI_AFFINITY_RULES);
  return SUCCESS;
}

/** topologyKey → value → summed weight. */
type TopologyScores = Map<string, Map<string, number>>;

function addScore(scores: TopologyScores, node: NodeInfo, topologyKey: string, delta: number): void {
  const v = node.labels[topologyKey];
  if (v === undefined) return;
  let byValue = scores.get(topologyKey);
  if (!byValue) scores.set(topologyKey, (byValue = new Map()));
  byValue.set(v, (byValue.get(v) ?? 0) + delta);
}

function addWeighted(scores: TopologyScores, terms: readonly WeightedAffinityTerm[], target: PodInfo, node: NodeInfo, sign: 1 | -1): void {
  for (const w of terms) if (termMatchesPod(w.term, target)) addScore(scores, node, w.term.topologyKey, sign * w.weight);
}

/**
 * Per topology domain, the weights an existing pod contributes for the incoming pod: the incoming pod's
 * preferred (anti-)affinity terms matching it, and its own terms matching the incoming pod.
 */
export function addExistingPod(scores: TopologyScores, pod: PodInfo, existing: PodInfo, node: NodeInfo): void {
  const mine = pod.podAffinity;
  if (mine) {
    addWeighted(scores, mine.preferred, existing, node, 1);
    addWeighted(scores, mine.preferredAnti, existing, node, -1);
  }
  const theirs = existing.podAffinity;
  if (theirs) {
    for (const t of theirs.required) if (termMatchesPod(t, pod)) addScore(scores, node, t.topologyKey, HARD_POD_AFFINITY_WEIGHT);
    addWeighted(scores, theirs.preferred, pod, node, 1);
    addWeighted(scores, theirs.preferredAnti, pod, node, -1);
  }
}

/**
 * Raw score: the sum of the domain weights of each feasible node (normalised by `normalizeInterPodAffinity`).
 * Only pods with affinity terms are visited unless the incoming pod has preferred terms of its own.
 */
export function scoreInterPodAffinity(pod: PodInfo, nodes: readonly NodeInfo[], out: Float64Array, allNodes: readonly NodeInfo[] = nodes): void {
  const own = pod.podAffinity;
  const visitAll = own !== undefined && own.preferred.length + own.preferredAnti.length > 0;
  const scores: TopologyScores = new Map();
  for (const node of allNodes) {
    const pods = visitAll ? node.pods : node.podsWithAffinity;
    if (pods.size === 0) continue;
    for (const existing of pods.values()) if (existing.uid !== pod.uid) addExistingPod(scores, pod, existing, node);
  }
  for (let i = 0; i < nodes.length; i++) {
    let s = 0;
    for (const [key, byValue] of scores) {
      const v = nodes[i].labels[key];
      if (v !== undefined) s += byValue.get(v) ?? 0;
    }
    out[i] = s;
  }
}

/** kube-scheduler's InterPodAffinity NormalizeScore: raw scores min..max → 0..100 (all equal: 0). */
export function normalizeInterPodAffinity(_pod: PodInfo, _nodes: readonly NodeInfo[], out: Float64Array): void {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < out.length; i++) {
    if (out[i] < min) min = out[i];
    if (out[i] > max) max = out[i];
  }
  const diff = max - min;
  for (let i = 0; i < out.length; i++) out[i] = diff > 0 ? Math.trunc((MAX_NODE_SCORE * (out[i] - min)) / diff) : 0;
}

export const InterPodAffinity: FilterPlugin<InterPodAffinityState> = {
  name: 'InterPodAffinity',
  preFilter: preFilterInterPodAffinity,
  filter: filterInterPodAffinity,
};

export const InterPodAffinityScore: ScorePlugin = {
  name: 'InterPodAffinity',
  weight: 2,
  score: scoreInterPodAffinity,
  normalizeScore: normalizeInterPodAffinity,
};
