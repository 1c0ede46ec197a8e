/** dns component options → validated config; durations in ms. */
import { readFileSync } from 'node:fs';
import { loadClientTls, type ClientTls, type ClientTlsOptions } from '../../component-base/tls.js';
import { networkInterfaces } from 'node:os';
import { ipToString, parseCidr } from '../../api/cidr.js';

export interface DnsOptions extends ClientTlsOptions {
  apiserver?: string;
  /** TLS to the apiserver (CA + client certificate); none: plain gRPC. */
  tls?: ClientTls;
  clusterDomain?: string;
  /** UDP+TCP port to serve on. */
  port?: number;
  bindAddress?: string;
  /** This server's address on the lab network (the kube-dns Endpoints); default: first non-loopback IPv4. */
  advertiseAddress?: string;
  /** Service range: kube-dns gets offset 10 of it. Unset: do not register kube-dns. */
  serviceClusterIpRange?: string;
  /** Range LoadBalancer Services get their ingress IP from. Unset: no LoadBalancer allocation. */
  loadBalancerIpRange?: string;
  /** Upstream resolvers for names outside the domain; default: nameservers of /etc/resolv.conf. */
  upstreams?: string[];
  forwardTimeoutMs?: number;
  adminPort?: number;
}

export interface DnsConfig {
  apiserver: string;
  tls?: ClientTls;
  /** Bearer token sent to the apiserver (--token), beside or instead of a client certificate. */
  token?: string;
  clusterDomain: string;
  port: number;
  bindAddress: string;
  advertiseAddress?: string;
  serviceCidr?: string;
  dnsClusterIp?: string;
  loadBalancerCidr?: string;
  upstreams: string[];
  forwardTimeoutMs: number;
  adminPort: number;
}

/** Thrown for an invalid option; the message names the flag. */
export class DnsConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DnsConfigError';
  }
}

/** Nameservers listed in a resolv.conf text. */
export function parseResolvConf(text: string): string[] {
  return [...text.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1] ?? '').filter((s) => /^\d+\.\d+\.\d+\.\d+$/.test(s));
}

function firstIPv4(): string | undefined {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

function cidr(flag: string, v: string | undefined): string | undefined {
  if (!v) return undefined;
  try {
    parseCidr(v);
  } catch {
    throw new DnsConfigError(`${flag}: "${v}" is not an IPv4 CIDR`);
  }
  return v;
}

export function compileDnsConfig(o: DnsOptions = {}): DnsConfig {
  const apiserver = o.apiserver ?? process.env.KUBELAB_APISERVER ?? '127.0.0.1:7443';
  if (!/^[^:\s]+:\d+$/.test(apiserver)) throw new DnsConfigError(`--apiserver: "${apiserver}" is not host:port`);
  const clusterDomain = (o.clusterDomain ?? 'cluster.local').toLowerCase().replace(/\.$/, '');
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(clusterDomain)) throw new DnsConfigError(`--cluster-domain: "${clusterDomain}" is not a domain`);
  const serviceCidr = cidr('--service-cluster-ip-range', o.serviceClusterIpRange ?? process.env.KUBELAB_SERVICE_CIDR);
  let upstreams = o.upstreams;
  if (!upstreams) {
    try {
      upstreams = parseResolvConf(readFileSync('/etc/resolv.conf', 'utf8'));
    } catch {
      upstreams = [];
    }
  }
  const port = o.port ?? 53;
  if (port < 0 || port > 65535) throw new DnsConfigError(`--port: ${port} is not a port`);
  return {
    apiserver,
    tls: o.tls ?? loadClientTls(o),
    ...(o.token ? { token: o.token } : {}),
    clusterDomain,
    port,
    bindAddress: o.bindAddress ?? '0.0.0.0',
    advertiseAddress: o.advertiseAddress ?? firstIPv4(),
    serviceCidr,
    dnsClusterIp: serviceCidr ? ipToString(parseCidr(serviceCidr).base + 10) : undefined,
    loadBalancerCidr: cidr('--load-balancer-ip-range', o.loadBalancerIpRange ?? process.env.KUBELAB_LB_CIDR),
    upstreams,
    forwardTimeoutMs: o.forwardTimeoutMs ?? 2000,
    adminPort: o.adminPort ?? 10253,
  };
}
