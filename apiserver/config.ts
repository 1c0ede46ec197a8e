/** apiserver options (flags/env) → validated config with every default filled; durations in ms. */
import { TIMING, isTimingPreset } from '../client/timing.js';

export interface ApiserverOptions {
  etcdServers?: string;
  etcdPrefix?: string;
  grpcPort?: number;
  httpPort?: number;
  adminPort?: number;
  bindAddress?: string;
  serviceClusterIpRange?: string;
  serviceNodePortRange?: string;
  /** Timing preset (client/timing.ts): gives defaultTolerationSeconds unless that is set. */
  timing?: string;
  defaultTolerationSeconds?: number;
  compactionIntervalMs?: number;
  watchWindowSize?: number;
  bookmarkIntervalMs?: number;
  advertiseAddress?: string;
  /** How often the apiserver re-checks its `default/kubernetes` Service and Endpoints (besides watch events). */
  kubernetesServiceSyncMs?: number;
}

export interface ApiserverConfig {
  etcdServers: string[];
  etcdPrefix: string;
  grpcPort: number;
  httpPort: number;
  adminPort: number;
  bindAddress: string;
  serviceCidr: string;
  nodePortRange: [number, number];
  defaultTolerationSeconds: number;
  compactionIntervalMs: number;
  watchWindowSize: number;
  bookmarkIntervalMs: number;
  advertiseAddress: string;
  kubernetesServiceSyncMs: number;
}

/** Thrown for an invalid option; the message names the flag. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function compileApiserverConfig(o: ApiserverOptions): ApiserverConfig {
  const etcdServers = (o.etcdServers ?? 'http://127.0.0.1:2379').split(',').map((s) => s.trim()).filter(Boolean);
  if (etcdServers.length === 0) throw new ConfigError('--etcd-servers: at least one etcd endpoint is required');
  const range = o.serviceNodePortRange ?? '30000-32767';
  const m = range.match(/^(\d+)-(\d+)$/);
  if (!m || Number(m[1]) >= Number(m[2])) throw new ConfigError(`--service-node-port-range: "${range}" is not a port range like 30000-32767`);
  const cidr = o.serviceClusterIpRange ?? '10.96.0.0/16';
  if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(cidr)) throw new ConfigError(`--service-cluster-ip-range: "${cidr}" is not an IPv4 CIDR`);
  const timing = o.timing ?? 'default';
  if (!isTimingPreset(timing)) throw new ConfigError(`--timing: "${timing}" is not a preset (lab, default)`);
  const kubernetesServiceSyncMs = o.kubernetesServiceSyncMs ?? 10_000;
  if (!(kubernetesServiceSyncMs > 0)) throw new ConfigError(`kubernetesServiceSyncMs: ${kubernetesServiceSyncMs} must be a positive number of milliseconds`);
  return {
    etcdServers,
    etcdPrefix: o.etcdPrefix ?? '/registry',
    grpcPort: o.grpcPort ?? 7443,
    httpPort: o.httpPort ?? 6443,
    adminPort: o.adminPort ?? 10260,
    bindAddress: o.bindAddress ?? '0.0.0.0',
    serviceCidr: cidr,
    nodePortRange: [Number(m[1]), Number(m[2])],
    defaultTolerationSeconds: o.defaultTolerationSeconds ?? TIMING[timing].apiserver.defaultTolerationSeconds,
    compactionIntervalMs: o.compactionIntervalMs ?? 5 * 60_000,
    watchWindowSize: o.watchWindowSize ?? 10_000,
    bookmarkIntervalMs: o.bookmarkIntervalMs ?? 5_000,
    advertiseAddress: o.advertiseAddress ?? '127.0.0.1',
    // kube-apiserver's endpoint reconciler interval.
    kubernetesServiceSyncMs,
  };
}
