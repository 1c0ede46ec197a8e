/** kubelet options (flags/env) → validated config with every default filled; durations in ms. */
import { hostname } from 'node:os';
import { cpuMillis, quantityValue, isQuantity } from '../api/quantity.js';
import { TIMING, isTimingPreset, leaseRenewIntervalMs, type TimingPreset } from '../component-base/timing.js';
import type { core } from '../api/types.js';
import { readPem, type ClientTls, type ClientTlsOptions, loadClientTls, type ServerTls } from '../component-base/tls.js';
import { ConfigError } from './errors.js';

export type RuntimeKind = 'docker' | 'hollow';
export type { TimingPreset } from '../component-base/timing.js';

export interface KubeletOptions extends ClientTlsOptions {
  apiserver?: string;
  /** TLS to the apiserver (CA + the node's client certificate, system:node:<name>); none: plain gRPC. */
  tls?: ClientTls;
  /** Serving certificate/key of 10250 and the CA of the client certificates it accepts (--tls-cert-file, --tls-private-key-file, --client-ca-file). */
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  clientCaFile?: string;
  nodeName?: string;
  nodeIp?: string;
  port?: number;
  adminPort?: number;
  runtime?: RuntimeKind;
  clusterName?: string;
  podNetwork?: string;
  nodeContainer?: string;
  serviceCidr?: string;
  clusterDns?: string;
  clusterDomain?: string;
  cpu?: string;
  memory?: string;
  maxPods?: number;
  /** `k=v,k2=v2` or a map. */
  nodeLabels?: string | Record<string, string>;
  /** `key=value:Effect,key2:Effect` or a list. */
  registerWithTaints?: string | core.Taint[];
  timing?: TimingPreset;
  nodeStatusUpdateFrequencyMs?: number;
  nodeStatusReportFrequencyMs?: number;
  nodeLeaseDurationMs?: number;
  staticPodPath?: string;
  /** How often the static pod path is read again (Kubernetes: --file-check-frequency). */
  fileCheckFrequencyMs?: number;
  crashLoopBackoffInitialMs?: number;
  crashLoopBackoffMaxMs?: number;
  crashLoopBackoffResetMs?: number;
  imagePullBackoffInitialMs?: number;
  relistPeriodMs?: number;
  /** How often running pods' configMap/secret/downwardAPI volumes are brought up to date. */
  volumeSyncPeriodMs?: number;
  /** Hollow runtime: delay from container start to "running". */
  hollowStartDelayMs?: number;
  pauseImage?: string;
  /**
   * Refuse to start pods that their namespace's Pod Security level (pod-security.kubernetes.io/enforce,
   * baseline when unlabelled) forbids: defence in depth behind the apiserver's admission, since a pod here
   * is a sibling container on the host's Docker. Default true; false only for a throwaway cluster.
   */
  enforcePodSecurity?: boolean;
}

export interface KubeletConfig {
  apiserver: string;
  tls?: ClientTls;
  /** Bearer token sent to the apiserver (--token), beside or instead of a client certificate. */
  token?: string;
  /** HTTPS for 10250 (only the apiserver may call it); absent: plain HTTP. */
  serving?: ServerTls;
  nodeName: string;
  nodeIp: string;
  port: number;
  adminPort: number;
  runtime: RuntimeKind;
  clusterName: string;
  /** Docker network of pause containers; '' = Docker's default bridge. */
  podNetwork: string;
  /**
   * The Docker container this kubelet's node is (lab nodes): hostNetwork/hostPID/hostIPC pods join its
   * namespaces. '' = the kubelet runs on the Docker host itself, and those pods use the host's.
   */
  nodeContainer: string;
  serviceCidr: string;
  clusterDns: string;
  clusterDomain: string;
  cpuMillis: number;
  memoryBytes: number;
  maxPods: number;
  nodeLabels: Record<string, string>;
  taints: core.Taint[];
  nodeStatusUpdateFrequencyMs: number;
  /** A node status that did not change is still written this often (Kubernetes: 5 min). */
  nodeStatusReportFrequencyMs: number;
  nodeLeaseDurationMs: number;
  leaseRenewIntervalMs: number;
  staticPodPath: string;
  fileCheckFrequencyMs: number;
  crashLoopBackoffInitialMs: number;
  crashLoopBackoffMaxMs: number;
  crashLoopBackoffResetMs: number;
  imagePullBackoffInitialMs: number;
  relistPeriodMs: number;
  volumeSyncPeriodMs: number;
  hollowStartDelayMs: number;
  pauseImage: string;
  enforcePodSecurity: boolean;
}

export function parseLabels(v: string | Record<string, string> | undefined, flag = '--node-labels'): Record<string, string> {
  if (!v) return {};
  if (typeof v !== 'string') return { ...v };
  const out: Record<string, string> = {};
  for (const part of v.split(',').map((s) => s.trim()).filter(Boolean)) {
    const i = part.indexOf('=');
    if (i <= 0) throw new ConfigError(`${flag}: "${part}" is not key=value`);
    out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

export function parseTaints(v: string | core.Taint[] | undefined): core.Taint[] {
  if (!v) return [];
  if (typeof v !== 'string') return v.map((t) => ({ ...t }));
  const effects = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((part) => {
      const m = part.match(/^([^=:]+)(?:=([^:]*))?:(\w+)$/);
      if (!m || !effects.includes(m[3]))
        throw new ConfigError(`--register-with-taints: "${part}" is not key[=value]:Effect with Effect one of ${effects.join(', ')}`);
      return { key: m[1], ...(m[2] !== undefined ? { value: m[2] } : {}), effect: m[3] };
    });
}

function quantity(flag: string, v: string): string {
  if (!isQuantity(v)) throw new ConfigError(`${flag}: "${v}" is not a quantity (examples: 2, 500m, 4Gi)`);
  return v;
}

export function compileKubeletConfig(o: KubeletOptions): KubeletConfig {
  const timing = o.timing ?? 'default';
  if (!isTimingPreset(timing)) throw new ConfigError(`--timing: "${String(timing)}" is not one of lab, default`);
  const preset = TIMING[timing].kubelet;
  const runtime = o.runtime ?? 'docker';
  if (runtime !== 'docker' && runtime !== 'hollow') throw new ConfigError(`--runtime: "${String(runtime)}" is not one of docker, hollow`);
  const leaseMs = o.nodeLeaseDurationMs ?? preset.nodeLeaseDurationMs;
  if (leaseMs < 1000) throw new ConfigError('--node-lease-duration: must be at least 1s');
  const statusMs = o.nodeStatusUpdateFrequencyMs ?? preset.nodeStatusUpdateFrequencyMs;
  if (statusMs < 100) throw new ConfigError('--node-status-update-frequency: must be at least 100ms');
  const nodeName = (o.nodeName ?? hostname()).toLowerCase();
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(nodeName)) throw new ConfigError(`--node-name: "${nodeName}" is not a valid DNS subdomain`);
  const nodeIp = o.nodeIp ?? '127.0.0.1';
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(nodeIp)) throw new ConfigError(`--node-ip: "${nodeIp}" is not an IPv4 address`);
  const serviceCidr = o.serviceCidr ?? '';
  if (serviceCidr && !/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(serviceCidr)) throw new ConfigError(`--service-cidr: "${serviceCidr}" is not an IPv4 CIDR`);
  const clusterDns = o.clusterDns ?? '';
  if (clusterDns && !/^\d+\.\d+\.\d+\.\d+$/.test(clusterDns)) throw new ConfigError(`--cluster-dns: "${clusterDns}" is not an IPv4 address`);
  const maxPods = o.maxPods ?? 110;
  if (!Number.isInteger(maxPods) || maxPods < 1) throw new ConfigError(`--max-pods: "${maxPods}" must be a positive integer`);
  const port = o.port ?? 10250;
  if (port < 0 || port > 65535) throw new ConfigError(`--port: ${port} is not a port`);
  const clusterName = o.clusterName ?? 'kubelab';
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(clusterName)) throw new ConfigError(`--cluster-name: "${clusterName}" may only hold letters, digits, '.', '_' and '-'`);
  const fileCheckMs = o.fileCheckFrequencyMs ?? 5_000;
  if (!(fileCheckMs >= 100)) throw new ConfigError('--file-check-frequency: must be at least 100ms');
  const backoffInitial = o.crashLoopBackoffInitialMs ?? 10_000;
  const backoffMax = o.crashLoopBackoffMaxMs ?? 300_000;
  if (backoffInitial <= 0 || backoffMax < backoffInitial)
    throw new ConfigError('--crash-loop-backoff-max: must be at least --crash-loop-backoff-initial (which must be positive)');
  const servingFiles = [o.tlsCertFile, o.tlsPrivateKeyFile, o.clientCaFile];
  if (servingFiles.some(Boolean) && !servingFiles.every(Boolean)) throw new ConfigError('--tls-cert-file, --tls-private-key-file and --client-ca-file go together: give all three');
  const serving: ServerTls | undefined =
    o.tlsCertFile && o.tlsPrivateKeyFile && o.clientCaFile
      ? {
          cert: readPem('--tls-cert-file', o.tlsCertFile, 'CERTIFICATE'),
          key: readPem('--tls-private-key-file', o.tlsPrivateKeyFile, 'PRIVATE KEY'),
          clientCa: readPem('--client-ca-file', o.clientCaFile, 'CERTIFICATE'),
        }
      : undefined;
  return {
    apiserver: o.apiserver ?? '127.0.0.1:7443',
    tls: o.tls ?? loadClientTls(o),
    ...(o.token ? { token: o.token } : {}),
    serving,
    nodeName,
    nodeIp,
    port,
    adminPort: o.adminPort ?? 10248,
    runtime,
    clusterName,
    podNetwork: o.podNetwork ?? '',
    nodeContainer: o.nodeContainer ?? '',
    serviceCidr,
    clusterDns,
    clusterDomain: o.clusterDomain ?? 'cluster.local',
    cpuMillis: cpuMillis(quantity('--cpu', o.cpu ?? '4')),
    memoryBytes: quantityValue(quantity('--memory', o.memory ?? '8Gi')),
    maxPods,
    nodeLabels: parseLabels(o.nodeLabels),
    taints: parseTaints(o.registerWithTaints),
    nodeStatusUpdateFrequencyMs: statusMs,
    nodeStatusReportFrequencyMs: o.nodeStatusReportFrequencyMs ?? preset.nodeStatusReportFrequencyMs,
    nodeLeaseDurationMs: leaseMs,
    leaseRenewIntervalMs: leaseRenewIntervalMs(leaseMs),
    staticPodPath: o.staticPodPath ?? '',
    fileCheckFrequencyMs: fileCheckMs,
    crashLoopBackoffInitialMs: backoffInitial,
    crashLoopBackoffMaxMs: backoffMax,
    crashLoopBackoffResetMs: o.crashLoopBackoffResetMs ?? 600_000,
    imagePullBackoffInitialMs: o.imagePullBackoffInitialMs ?? 10_000,
    relistPeriodMs: o.relistPeriodMs ?? 1_000,
    // Kubernetes: the kubelet's 1-minute sync period (+ cache TTL); the lab shows the change within seconds.
    volumeSyncPeriodMs: o.volumeSyncPeriodMs ?? preset.volumeSyncPeriodMs,
    hollowStartDelayMs: o.hollowStartDelayMs ?? 1_000,
    pauseImage: o.pauseImage ?? 'kubelab/pause:latest',
    // On by default, with the apiserver's Pod Security default (baseline); off only for a throwaway cluster.
    enforcePodSecurity: o.enforcePodSecurity ?? true,
  };
}
