/**
 * SelectorSpread: pods of the same controller (owner uid) or selected by the same Service go to the nodes
 * that hold the fewest of them, so a ReplicaSet survives the loss of one node.
 */
import { defaultNormalizeScore, type NodeInfo, type PodInfo, type ScorePlugin } from '../framework.js';

export function matchingPods(pod: PodInfo, node: NodeInfo): number {
  let n = 0;
  for (const g of pod.groups) n += node.groupCounts.get(g) ?? 0;
  return n;
}

/** Raw score: the pods of the pod's groups on each node; normalised in reverse, so the emptiest score 100. */
export function scoreSpread(pod: PodInfo, nodes: readonly NodeInfo[], out: Float64Array): void {
  for (let i = 0; i < nodes.length; i++) out[i] = matchingPods(pod, nodes[i]);
}

export const SelectorSpread: ScorePlugin = {
  name: 'SelectorSpread',
  weight: 2,
  relevant: (pod) => pod.groups.length > 0,
  score: scoreSpread,
  normalizeScore: defaultNormalizeScore(true),
};
