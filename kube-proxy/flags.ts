/** kube-proxy's and the dns component's flags, declared once: commander's options and their options objects come from here. */
import { boolFlag, durationFlag, intFlag, listFlag, stringFlag, type FlagsFor } from '../component-base/flags.js';
import { CLIENT_TLS_FLAGS } from '../component-base/tls.js';
import type { KubeProxyOptions } from './config.js';
import type { DnsOptions } from './dns/config.js';

export const KUBE_PROXY_FLAGS = {
  ...CLIENT_TLS_FLAGS,
  apiserver: stringFlag('--apiserver <host:port>', 'apiserver gRPC address (env KUBELAB_APISERVER)'),
  nodeName: stringFlag('--hostname-override <name>', 'node name (env KUBELAB_NODE_NAME, default: hostname)'),
  serviceClusterIpRange: stringFlag('--service-cluster-ip-range <cidr>', 'Service ClusterIP range; unknown ClusterIPs are rejected (env KUBELAB_SERVICE_CIDR)'),
  loadBalancerIpRange: stringFlag('--load-balancer-ip-range <cidr>', 'LoadBalancer ingress IP range this node answers for (env KUBELAB_LB_CIDR)'),
  syncPeriodMs: durationFlag('--sync-period <duration>', 'full resync period'),
  minSyncPeriodMs: durationFlag('--min-sync-period <duration>', 'debounce between a change and the sync'),
  adminPort: intFlag('--admin-port <port>', 'healthz/metrics port (-1: off)'),
  iptables: stringFlag('--iptables <binary>', 'iptables, iptables-nft or iptables-legacy'),
  allowHostIptables: boolFlag('--allow-host-iptables', 'allow programming iptables outside a container (the host firewall!)'),
} satisfies FlagsFor<KubeProxyOptions>;

export const DNS_FLAGS = {
  ...CLIENT_TLS_FLAGS,
  apiserver: stringFlag('--apiserver <host:port>', 'apiserver gRPC address (env KUBELAB_APISERVER)'),
  clusterDomain: stringFlag('--cluster-domain <domain>', 'cluster domain (default cluster.local)'),
  port: intFlag('--port <port>', 'UDP/TCP port'),
  bindAddress: stringFlag('--bind-address <ip>', 'address to listen on'),
  advertiseAddress: stringFlag('--advertise-address <ip>', "this server's lab address for the kube-dns Endpoints (default: first non-loopback IPv4)"),
  serviceClusterIpRange: stringFlag('--service-cluster-ip-range <cidr>', 'Service range; kube-dns gets offset 10 (env KUBELAB_SERVICE_CIDR)'),
  loadBalancerIpRange: stringFlag('--load-balancer-ip-range <cidr>', 'range for LoadBalancer ingress IPs (env KUBELAB_LB_CIDR)'),
  upstreams: listFlag('--upstream <ip...>', 'resolvers for names outside the domain (default: /etc/resolv.conf)'),
  forwardTimeoutMs: durationFlag('--forward-timeout <duration>', 'upstream timeout'),
  adminPort: intFlag('--admin-port <port>', 'healthz/metrics port (-1: off)'),
} satisfies FlagsFor<DnsOptions>;
