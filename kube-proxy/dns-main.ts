/** dns component entry: cluster DNS (+ kube-dns registration, LoadBalancer IPs), until SIGTERM. */
import { Command } from 'commander';
import { createLogger } from '../client/log.js';
import { addClientTlsFlags, clientTlsFromFlags } from '../client/tls.js';
import { durationFlag, intFlag, runUntilSignal } from '../client/process.js';
import { compileDnsConfig } from './dns/config.js';
import { startDns } from './dns/component.js';

export async function main(argv: string[]): Promise<void> {
  const cmd = addClientTlsFlags(new Command('dns'))
    .description('kubelab cluster DNS: <svc>.<ns>.svc.<domain>, StatefulSet pod names, SRV; registers kube-dns; allocates LoadBalancer IPs')
    .option('--apiserver <host:port>', 'apiserver gRPC address (env KUBELAB_APISERVER)')
    .option('--cluster-domain <domain>', 'cluster domain', 'cluster.local')
    .option('--port <port>', 'UDP/TCP port', intFlag('--port'))
    .option('--bind-address <ip>', 'address to listen on')
    .option('--advertise-address <ip>', 'this server\'s lab address for the kube-dns Endpoints (default: first non-loopback IPv4)')
    .option('--service-cluster-ip-range <cidr>', 'Service range; kube-dns gets offset 10 (env KUBELAB_SERVICE_CIDR)')
    .option('--load-balancer-ip-range <cidr>', 'range for LoadBalancer ingress IPs (env KUBELAB_LB_CIDR)')
    .option('--upstream <ip...>', 'resolvers for names outside the domain (default: /etc/resolv.conf)')
    .option('--forward-timeout <duration>', 'upstream timeout', durationFlag('--forward-timeout'))
    .option('--admin-port <port>', 'healthz/metrics port (-1: off)', intFlag('--admin-port'))
    .exitOverride();
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts<Record<string, unknown>>();
  const cfg = compileDnsConfig({
    apiserver: o.apiserver as string | undefined,
    tls: clientTlsFromFlags(o),
    clusterDomain: o.clusterDomain as string | undefined,
    port: o.port as number | undefined,
    bindAddress: o.bindAddress as string | undefined,
    advertiseAddress: o.advertiseAddress as string | undefined,
    serviceClusterIpRange: o.serviceClusterIpRange as string | undefined,
    loadBalancerIpRange: o.loadBalancerIpRange as string | undefined,
    upstreams: o.upstream as string[] | undefined,
    forwardTimeoutMs: o.forwardTimeout as number | undefined,
    adminPort: o.adminPort as number | undefined,
  });
  const log = createLogger('dns');
  await runUntilSignal(log, (signal) => startDns(cfg, signal, { logger: log }));
}
