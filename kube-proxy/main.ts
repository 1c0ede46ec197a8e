/** kube-proxy entry: flags → config → startKubeProxy, until SIGTERM. */
import { Command } from 'commander';
import { createLogger } from '../client/log.js';
import { addClientTlsFlags, clientTlsFromFlags } from '../client/tls.js';
import { durationFlag, intFlag, runUntilSignal } from '../client/process.js';
import { compileKubeProxyConfig } from './config.js';
import { startKubeProxy } from './proxier.js';

export async function main(argv: string[]): Promise<void> {
  const cmd = addClientTlsFlags(new Command('kube-proxy'))
    .description('kubelab kube-proxy: programs this node container\'s iptables so Service ClusterIPs, NodePorts and LoadBalancer IPs reach ready endpoints')
    .option('--apiserver <host:port>', 'apiserver gRPC address (env KUBELAB_APISERVER)')
    .option('--hostname-override <name>', 'node name (env KUBELAB_NODE_NAME, default: hostname)')
    .option('--service-cluster-ip-range <cidr>', 'Service ClusterIP range; unknown ClusterIPs are rejected (env KUBELAB_SERVICE_CIDR)')
    .option('--load-balancer-ip-range <cidr>', 'LoadBalancer ingress IP range this node answers for (env KUBELAB_LB_CIDR)')
    .option('--sync-period <duration>', 'full resync period', durationFlag('--sync-period'))
    .option('--min-sync-period <duration>', 'debounce between a change and the sync', durationFlag('--min-sync-period'))
    .option('--admin-port <port>', 'healthz/metrics port (-1: off)', intFlag('--admin-port'))
    .option('--iptables <binary>', 'iptables, iptables-nft or iptables-legacy')
    .option('--allow-host-iptables', 'allow programming iptables outside a container (the host firewall!)')
    .exitOverride();
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts<Record<string, unknown>>();
  const cfg = compileKubeProxyConfig({
    apiserver: o.apiserver as string | undefined,
    tls: clientTlsFromFlags(o),
    nodeName: o.hostnameOverride as string | undefined,
    serviceClusterIpRange: o.serviceClusterIpRange as string | undefined,
    loadBalancerIpRange: o.loadBalancerIpRange as string | undefined,
    syncPeriodMs: o.syncPeriod as number | undefined,
    minSyncPeriodMs: o.minSyncPeriod as number | undefined,
    adminPort: o.adminPort as number | undefined,
    iptables: o.iptables as string | undefined,
    allowHostIptables: o.allowHostIptables === true,
  });
  const log = createLogger('kube-proxy');
  await runUntilSignal(log, (signal) => startKubeProxy(cfg, signal, { logger: log }));
}
