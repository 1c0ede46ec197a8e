/** NodeName: a pod that names a node fits only that node. */
import { SUCCESS, unresolvable, type FilterPlugin, type NodeInfo, type PodInfo, type Status } from '../framework.js';

export const ERR_NODE_NAME = "node(s) didn't match the requested node name";

export function nodeName(pod: PodInfo, node: NodeInfo): Status {
  return !pod.nodeName || pod.nodeName === node.name ? SUCCESS : unresolvable(ERR_NODE_NAME);
}

export const NodeName: FilterPlugin = { name: 'NodeName', filter: nodeName };
