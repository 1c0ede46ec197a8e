/** NodeUnschedulable: a cordoned node (spec.unschedulable) takes no new pods unless they tolerate the cordon taint. */
import type { core } from '../../api/types.js';
import { SUCCESS, unresolvable, type FilterPlugin, type NodeInfo, type PodInfo, type Status } from '../framework.js';
import { toleratesTaint } from './tainttoleration.js';

export const ERR_NODE_UNSCHEDULABLE = 'node(s) were unschedulable';

const CORDON_TAINT: core.Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

export function nodeUnschedulable(pod: PodInfo, node: NodeInfo): Status {
  if (!node.unschedulable) return SUCCESS;
  if (pod.tolerations.some((t) => toleratesTaint(t, CORDON_TAINT))) return SUCCESS;
  return unresolvable(ERR_NODE_UNSCHEDULABLE);
}

export const NodeUnschedulable: FilterPlugin = { name: 'NodeUnschedulable', filter: nodeUnschedulable };
