/**
 * NodeReady: no new pods on a node whose Ready condition is not True. Kubernetes expresses this with the
 * node.kubernetes.io/not-ready taint; checking the condition directly works whether or not a node
 * controller has tainted the node yet, and pods that tolerate the taint (DaemonSet pods) still fit.
 */
import type { core } from '../../api/types.js';
import { SUCCESS, unresolvable, type FilterPlugin, type NodeInfo, type PodInfo, type Status } from '../framework.js';
import { toleratesTaint } from './tainttoleration.js';

export const ERR_NODE_NOT_READY = 'node(s) were not ready';

const NOT_READY_TAINT: core.Taint = { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' };

export function nodeReady(pod: PodInfo, node: NodeInfo): Status {
  if (node.ready) return SUCCESS;
  if (pod.tolerations.some((t) => toleratesTaint(t, NOT_READY_TAINT))) return SUCCESS;
  return unresolvable(ERR_NODE_NOT_READY);
}

export const NodeReady: FilterPlugin = { name: 'NodeReady', filter: nodeReady };
