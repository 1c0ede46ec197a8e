/** kube-proxy options (flags/env) → validated config with every default filled; durations in ms. */
import { hostname } from 'node:os';
import { loadClientTls, type ClientTls, type ClientTlsOptions } from '../component-base/tls.js';
import { parseCidr } from '../api/cidr.js';

export interface KubeProxyOptions extends ClientTlsOptions {
  /** apiserver gRPC address host:port. */
  apiserver?: string;
  /** TLS to the apiserver (CA + client certificate); none: plain gRPC. */
  tls?: ClientTls;
  /** This node's name (for logs and events). */
  nodeName?: string;
  /** Service ClusterIP range: traffic to an unknown ClusterIP is rejected instead of leaving the node. */
  serviceClusterIpRange?: string;
  /** Range LoadBalancer ingress IPs come from; this node answers ARP for the ones in use. */
  loadBalancerIpRange?: string;
  /** Full resync period. */
  syncPeriodMs?: number;
  /** Debounce between a change and the rule sync it triggers. */
  minSyncPeriodMs?: number;
  adminPort?: number;
  /** Required to program iptables outside a container (the Docker host's own firewall). */
  allowHostIptables?: boolean;
  /** `iptables` (auto), or an explicit `iptables-nft` / `iptables-legacy`. */
  iptables?: string;
}

export interface KubeProxyConfig {
  apiserver: string;
  tls?: ClientTls;
  /** Bearer token sent to the apiserver (--token), beside or instead of a client certificate. */
  token?: string;
  nodeName: string;
  serviceCidr?: string;
  loadBalancerCidr?: string;
  syncPeriodMs: number;
  minSyncPeriodMs: number;
  adminPort: number;
  allowHostIptables: boolean;
  /** Binary prefix: `<iptables>`, `<iptables>-save`, `<iptables>-restore`. */
  iptables: string;
}

/** Thrown for an invalid option; the message names the flag. */
export class KubeProxyConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeProxyConfigError';
  }
}

function cidrOption(flag: string, v: string | undefined): string | undefined {
  if (v === undefined || v === '') return undefined;
  if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(v)) throw new KubeProxyConfigError(`${flag}: "${v}" is not an IPv4 CIDR`);
  parseCidr(v);
  return v;
}

export function compileKubeProxyConfig(o: KubeProxyOptions = {}): KubeProxyConfig {
  const apiserver = o.apiserver ?? process.env.KUBELAB_APISERVER ?? '127.0.0.1:7443';
  if (!/^[^:\s]+:\d+$/.test(apiserver)) throw new KubeProxyConfigError(`--apiserver: "${apiserver}" is not host:port`);
  const syncPeriodMs = o.syncPeriodMs ?? 30_000;
  if (syncPeriodMs < 1000) throw new KubeProxyConfigError(`--sync-period: must be at least 1s (got ${syncPeriodMs} ms)`);
  const minSyncPeriodMs = o.minSyncPeriodMs ?? 100;
  if (minSyncPeriodMs < 0 || minSyncPeriodMs > 1000)
    throw new KubeProxyConfigError(`--min-sync-period: must be between 0 and 1s so changes apply within a second (got ${minSyncPeriodMs} ms)`);
  const iptables = o.iptables ?? 'iptables';
  if (!/^iptables(-nft|-legacy)?$/.test(iptables)) throw new KubeProxyConfigError(`--iptables: "${iptables}" is not iptables, iptables-nft or iptables-legacy`);
  return {
    apiserver,
    tls: o.tls ?? loadClientTls(o),
    ...(o.token ? { token: o.token } : {}),
    nodeName: o.nodeName || process.env.KUBELAB_NODE_NAME || hostname(),
    serviceCidr: cidrOption('--service-cluster-ip-range', o.serviceClusterIpRange ?? process.env.KUBELAB_SERVICE_CIDR),
    loadBalancerCidr: cidrOption('--load-balancer-ip-range', o.loadBalancerIpRange ?? process.env.KUBELAB_LB_CIDR),
    syncPeriodMs,
    minSyncPeriodMs,
    adminPort: o.adminPort ?? 10256,
    allowHostIptables: o.allowHostIptables ?? false,
    iptables,
  };
}
