/** Options of a test kubelet on the Docker host: loopback node address, free ports, lab timing, a fast relist. */
import type { KubeletOptions } from '../../kubelet/config.js';

export function testKubeletOptions(apiserver: string, clusterName: string, nodeName: string, extra: KubeletOptions = {}): KubeletOptions {
  return { apiserver, nodeName, nodeIp: '127.0.0.1', port: 0, adminPort: 0, clusterName, timing: 'lab', relistPeriodMs: 500, ...extra };
}
