/**
 * TaintToleration: NoSchedule and NoExecute taints keep out pods that do not tolerate them (filter);
 * untolerated PreferNoSchedule taints lower a node's score.
 */
import type { core } from '../../api/types.js';
import { defaultNormalizeScore, SUCCESS, unresolvable, type FilterPlugin, type NodeInfo, type PodInfo, type ScorePlugin, type Status } from '../framework.js';

/** Kubernetes' toleration semantics: empty effect matches all effects, Exists with empty key matches all taints. */
export function toleratesTaint(t: core.Toleration, taint: core.Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.operator === 'Exists') return !t.key || t.key === taint.key;
  return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
}

export function untoleratedTaintMessage(taint: core.Taint): string {
  return `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`;
}

export function taintToleration(pod: PodInfo, node: NodeInfo): Status {
  for (const taint of node.taints) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    if (!pod.tolerations.some((t) => toleratesTaint(t, taint))) return unresolvable(untoleratedTaintMessage(taint));
  }
  return SUCCESS;
}

/** Number of PreferNoSchedule taints on the node the pod does not tolerate. */
export function intolerablePreferNoSchedule(pod: PodInfo, node: NodeInfo): number {
  let n = 0;
  for (const taint of node.taints) {
    if (taint.effect !== 'PreferNoSchedule') continue;
    const prefs = pod.tolerations.filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
    if (!prefs.some((t) => toleratesTaint(t, taint))) n++;
  }
  return n;
}

/** Raw score: untolerated PreferNoSchedule taints; normalised in reverse, so a node without any scores 100. */
export function scoreTaints(pod: PodInfo, nodes: readonly NodeInfo[], out: Float64Array): void {
  for (let i = 0; i < nodes.length; i++) out[i] = intolerablePreferNoSchedule(pod, nodes[i]);
}

export const TaintToleration: FilterPlugin = { name: 'TaintToleration', filter: taintToleration };

export const TaintTolerationScore: ScorePlugin = {
  name: 'TaintToleration',
  weight: 3,
  score: scoreTaints,
  normalizeScore: defaultNormalizeScore(true),
};
