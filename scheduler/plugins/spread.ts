/**
 * SelectorSpread: pods of the same controller (owner uid) or selected by the same Service go to the nodes
 * that hold the fewest of them, so a ReplicaSet survives the loss of one node.
 */
import { MAX_NODE_SCORE, type NodeInfo, type PodInfo, type ScorePlugin } from '../framework.js';

export function matchingPods(pod: PodInfo, node: NodeInfo): number {
  let n = 0;
  for (const g of pod.groups) n += node.groupCounts.get(g) ?? 0;
  return n;
}

/** Nodes with fewer pods of the pod's groups score higher; the emptiest score 100. */
export function scoreSpread(pod: PodInfo, nodes: readonly NodeInfo[], out: Float64Array): void {
  let max = 0;
  for (let i = 0; i < nodes.length; i++) {
    out[i] = matchingPods(pod, nodes[i]);
    if (out[i] > max) max = out[i];
  }
  for (let i = 0; i < nodes.length; i++) out[i] = max === 0 ? MAX_NODE_SCORE : ((max - out[i]) * MAX_NODE_SCORE) / max;
}

export const SelectorSpread: ScorePlugin = {
  name: 'SelectorSpread',
  weight: 2,
  relevant: (pod) => pod.groups.length > 0,
  score: scoreSpread,
};
