/** NodePorts: a pod's hostPorts must be free on the node (same protocol and port, overlapping host IP). */
import { SUCCESS, unschedulable, type FilterPlugin, type NodeInfo, type PodInfo, type Status } from '../framework.js';

export const ERR_NODE_PORTS = "node(s) didn't have free ports for the requested pod ports";

const ANY_IP = '0.0.0.0';

export function nodePorts(pod: PodInfo, node: NodeInfo): Status {
  for (const hp of pod.hostPorts) {
    const ips = node.usedPorts.get(`${hp.protocol}/${hp.port}`);
    if (!ips) continue;
    // 0.0.0.0 on either side conflicts with every address; otherwise only the same address does.
    if (hp.ip === ANY_IP || ips.has(ANY_IP) || ips.has(hp.ip)) return unschedulable(ERR_NODE_PORTS);
  }
  return SUCCESS;
}

export const NodePorts: FilterPlugin = { name: 'NodePorts', filter: nodePorts };
