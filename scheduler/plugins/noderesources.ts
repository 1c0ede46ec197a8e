/**
 * NodeResourcesFit: the pod's requests must fit the node's allocatable minus what its pods (including
 * assumed ones) already request, and the pod count must stay within allocatable pods. The score half is
 * LeastAllocated: nodes with more free cpu and memory (after placing the pod) score higher.
 */
import { MAX_NODE_SCORE, SUCCESS, unschedulable, type FilterPlugin, type NodeInfo, type PodInfo, type ScorePlugin, type Status } from '../framework.js';

export const ERR_TOO_MANY_PODS = 'Too many pods';

export function insufficient(resource: string): string {
  return `Insufficient ${resource}`;
}

export function nodeResourcesFit(pod: PodInfo, node: NodeInfo): Status {
  const a = node.allocatable;
  let reasons: string[] | undefined;
  const fail = (r: string): void => {
    (reasons ??= []).push(r);
  };
  if (node.podCount + 1 > a.pods) fail(ERR_TOO_MANY_PODS);
  if (pod.cpu > 0 && node.requestedCpu + pod.cpu > a.cpu) fail(insufficient('cpu'));
  if (pod.memory > 0 && node.requestedMemory + pod.memory > a.memory) fail(insufficient('memory'));
  if (pod.ephemeral > 0 && node.requestedEphemeral + pod.ephemeral > a.ephemeral) fail(insufficient('ephemeral-storage'));
  for (const [name, q] of pod.scalars) {
    if (q > 0 && (node.requestedScalars.get(name) ?? 0) + q > (a.scalars.get(name) ?? 0)) fail(insufficient(name));
  }
  return reasons ? unschedulable(...reasons) : SUCCESS;
}

function leastAllocated(requested: number, capacity: number): number {
  if (capacity <= 0 || requested > capacity) return 0;
  return ((capacity - requested) * MAX_NODE_SCORE) / capacity;
}

/** Average over cpu and memory of the free share left after placing the pod (non-zero request defaults). */
export function scoreLeastAllocated(pod: PodInfo, nodes: readonly NodeInfo[], out: Float64Array): void {
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i];
    const cpu = leastAllocated(n.nonZeroCpu + pod.nonZeroCpu, n.allocatable.cpu);
    const mem = leastAllocated(n.nonZeroMemory + pod.nonZeroMemory, n.allocatable.memory);
    out[i] = (cpu + mem) / 2;
  }
}

export const NodeResourcesFit: FilterPlugin = { name: 'NodeResourcesFit', filter: nodeResourcesFit };

export const NodeResourcesLeastAllocated: ScorePlugin = {
  name: 'NodeResourcesLeastAllocated',
  weight: 1,
  score: scoreLeastAllocated,
};
