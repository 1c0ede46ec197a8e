/** kube-proxy entry: flags → config → startKubeProxy, until SIGTERM. */
import { runComponent, type ComponentSpec } from '../component-base/process.js';
import { compileKubeProxyConfig, type KubeProxyConfig } from './config.js';
import { KUBE_PROXY_FLAGS } from './flags.js';
import { startKubeProxy } from './proxier.js';

export const kubeProxyComponent: ComponentSpec<typeof KUBE_PROXY_FLAGS, KubeProxyConfig> = {
  name: 'kube-proxy',
  description: "kubelab kube-proxy: programs this node container's iptables so Service ClusterIPs, NodePorts and LoadBalancer IPs reach ready endpoints",
  flags: KUBE_PROXY_FLAGS,
  compile: compileKubeProxyConfig,
  start: (config, signal, logger) => startKubeProxy(config, signal, { logger }),
};

export function main(argv: string[]): Promise<void> {
  return runComponent(kubeProxyComponent, argv);
}
