/**
 * controller-manager options (flags/env) → validated config with every default filled; durations in ms.
 * Two timing presets: `default` (Kubernetes' own defaults) and `lab` (a lost node's pods run elsewhere
 * within seconds). See docs/timing.md for the computed time-to-heal of each.
 */
import { networkInterfaces } from 'node:os';
import { loadClientTls, type ClientTls, type ClientTlsOptions } from '../component-base/tls.js';
import { TIMING, isTimingPreset, type TimingPreset } from '../component-base/timing.js';

export const ALL_CONTROLLERS = [
  'replicaset',
  'deployment',
  'statefulset',
  'daemonset',
  'job',
  'cronjob',
  'endpoints',
  'nodelifecycle',
  'taint-eviction',
  'podgc',
  'garbagecollector',
  'namespace',
  'persistentvolume-binder',
  'disruption',
  'metrics-scraper',
  'horizontalpodautoscaling',
] as const;

export type ControllerName = (typeof ALL_CONTROLLERS)[number];

export interface ControllerManagerOptions extends ClientTlsOptions {
  apiserver?: string;
  /** TLS to the apiserver, also used to scrape kubelets' /stats (CA + client certificate); none: plain. */
  tls?: ClientTls;
  adminPort?: number;
  bindAddress?: string;
  timing?: string;
  leaderElect?: boolean;
  leaderElectLeaseDurationMs?: number;
  leaderElectRenewDeadlineMs?: number;
  leaderElectRetryPeriodMs?: number;
  identity?: string;
  nodeMonitorGracePeriodMs?: number;
  nodeMonitorPeriodMs?: number;
  nodeStartupGracePeriodMs?: number;
  nodeEvictionRate?: number;
  /** Force-delete terminating pods on lost nodes once their grace period is over (see docs/timing.md). */
  forceDeleteLostPods?: boolean;
  /** The lab cluster whose node containers' deaths in Docker count as lost nodes (lab preset; see docs/timing.md). */
  clusterName?: string;
  podGcPeriodMs?: number;
  jobBackoffBaseMs?: number;
  jobBackoffMaxMs?: number;
  /** Comma list as Kubernetes' --controllers: `*`, names, `-name` to disable. */
  controllers?: string;
  workers?: number;
  /** How often every node's kubelet summary is scraped (metrics-server's --metric-resolution). */
  metricResolutionMs?: number;
  /** Port of the metrics.k8s.io API the scraper serves (0: any free port; the apiserver learns it from Endpoints). */
  metricsPort?: number;
  /** The address the apiserver reaches the metrics API at (Endpoints kube-system/metrics-server). */
  metricsAdvertiseAddress?: string;
  /** --horizontal-pod-autoscaler-sync-period. */
  hpaSyncPeriodMs?: number;
  /** --horizontal-pod-autoscaler-downscale-stabilization (when an HPA's behavior does not set one). */
  hpaDownscaleStabilizationMs?: number;
  /** --horizontal-pod-autoscaler-tolerance. */
  hpaTolerance?: number;
  /** --horizontal-pod-autoscaler-cpu-initialization-period. */
  hpaCpuInitializationPeriodMs?: number;
  /** --horizontal-pod-autoscaler-initial-readiness-delay. */
  hpaInitialReadinessDelayMs?: number;
}

export interface ControllerManagerConfig {
  apiserver: string;
  tls?: ClientTls;
  /** Bearer token sent to the apiserver (--token), beside or instead of a client certificate. */
  token?: string;
  adminPort: number;
  bindAddress: string;
  timing: TimingPreset;
  leaderElect: boolean;
  leaderElection: { leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number };
  identity: string;
  nodeMonitorGracePeriodMs: number;
  nodeMonitorPeriodMs: number;
  nodeStartupGracePeriodMs: number;
  nodeEvictionRate: number;
  forceDeleteLostPods: boolean;
  /** '' = not a lab cluster (no Docker signal). */
  clusterName: string;
  /** Lab only: a dead node container is a lost node after this long; undefined = off. */
  dockerDeathConfirmMs: number | undefined;
  podGcPeriodMs: number;
  jobBackoffBaseMs: number;
  jobBackoffMaxMs: number;
  controllers: ReadonlySet<ControllerName>;
  workers: number;
  metricResolutionMs: number;
  metricsPort: number;
  metricsAdvertiseAddress: string;
  hpaSyncPeriodMs: number;
  hpaDownscaleStabilizationMs: number;
  hpaTolerance: number;
  hpaCpuInitializationPeriodMs: number;
  hpaInitialReadinessDelayMs: number;
}

/** Thrown for an invalid option; the message names the flag. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** The container's own address on the lab network (what the apiserver dials); undefined outside one. */
function firstExternalIPv4(): string | undefined {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

function positive(flag: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0) throw new ConfigError(`${flag}: must be a positive number (got ${v})`);
  return v;
}

export function parseControllers(spec: string | undefined): Set<ControllerName> {
  const out = new Set<ControllerName>();
  const parts = (spec ?? '*').split(',').map((s) => s.trim()).filter(Boolean);
  const known = new Set<string>(ALL_CONTROLLERS);
  for (const p of parts) {
    if (p === '*') ALL_CONTROLLERS.forEach((c) => out.add(c));
    else if (p.startsWith('-')) {
      if (!known.has(p.slice(1))) throw new ConfigError(`--controllers: unknown controller "${p.slice(1)}" (known: ${ALL_CONTROLLERS.join(', ')})`);
      out.delete(p.slice(1) as ControllerName);
    } else {
      if (!known.has(p)) throw new ConfigError(`--controllers: unknown controller "${p}" (known: ${ALL_CONTROLLERS.join(', ')})`);
      out.add(p as ControllerName);
    }
  }
  return out;
}

export function compileControllerManagerConfig(o: ControllerManagerOptions = {}): ControllerManagerConfig {
  const timing = o.timing ?? 'default';
  if (!isTimingPreset(timing)) throw new ConfigError(`--timing: "${timing}" is not a preset (lab, default)`);
  const p = { ...TIMING[timing].controllerManager, leaderElection: TIMING[timing].leaderElection };
  const le = {
    leaseDurationMs: positive('--leader-elect-lease-duration', o.leaderElectLeaseDurationMs ?? p.leaderElection.leaseDurationMs),
    renewDeadlineMs: positive('--leader-elect-renew-deadline', o.leaderElectRenewDeadlineMs ?? p.leaderElection.renewDeadlineMs),
    retryPeriodMs: positive('--leader-elect-retry-period', o.leaderElectRetryPeriodMs ?? p.leaderElection.retryPeriodMs),
  };
  if (le.renewDeadlineMs >= le.leaseDurationMs) throw new ConfigError('--leader-elect-renew-deadline: must be shorter than --leader-elect-lease-duration');
  const workers = o.workers ?? 4;
  if (!Number.isInteger(workers) || workers < 1) throw new ConfigError(`--concurrent-syncs: must be a positive integer (got ${workers})`);
  const adminPort = o.adminPort ?? 10257;
  if (!Number.isInteger(adminPort) || adminPort < 0 || adminPort > 65535) throw new ConfigError(`--admin-port: ${adminPort} is not a port`);
  const cfg: ControllerManagerConfig = {
    apiserver: o.apiserver ?? process.env.KUBELAB_APISERVER ?? '127.0.0.1:7443',
    tls: o.tls ?? loadClientTls(o),
    ...(o.token ? { token: o.token } : {}),
    adminPort,
    bindAddress: o.bindAddress ?? '0.0.0.0',
    timing,
    leaderElect: o.leaderElect ?? true,
    leaderElection: le,
    identity: o.identity ?? `${process.env.HOSTNAME ?? 'controller-manager'}_${process.pid}_${Math.random().toString(16).slice(2, 8)}`,
    nodeMonitorGracePeriodMs: positive('--node-monitor-grace-period', o.nodeMonitorGracePeriodMs ?? p.nodeMonitorGracePeriodMs),
    nodeMonitorPeriodMs: positive('--node-monitor-period', o.nodeMonitorPeriodMs ?? p.nodeMonitorPeriodMs),
    nodeStartupGracePeriodMs: positive('--node-startup-grace-period', o.nodeStartupGracePeriodMs ?? p.nodeStartupGracePeriodMs),
    nodeEvictionRate: positive('--node-eviction-rate', o.nodeEvictionRate ?? p.nodeEvictionRate),
    forceDeleteLostPods: o.forceDeleteLostPods ?? p.forceDeleteLostPods,
    clusterName: o.clusterName ?? process.env.KUBELAB_CLUSTER ?? '',
    dockerDeathConfirmMs: p.dockerDeathConfirmMs,
    podGcPeriodMs: positive('--pod-gc-period', o.podGcPeriodMs ?? p.podGcPeriodMs),
    jobBackoffBaseMs: positive('--job-backoff-base', o.jobBackoffBaseMs ?? p.jobBackoffBaseMs),
    jobBackoffMaxMs: positive('--job-backoff-max', o.jobBackoffMaxMs ?? 360_000),
    controllers: parseControllers(o.controllers),
    workers,
    metricResolutionMs: positive('--metric-resolution', o.metricResolutionMs ?? p.metricResolutionMs),
    metricsPort: o.metricsPort ?? 0,
    hpaSyncPeriodMs: positive('--horizontal-pod-autoscaler-sync-period', o.hpaSyncPeriodMs ?? p.hpaSyncPeriodMs),
    hpaDownscaleStabilizationMs: o.hpaDownscaleStabilizationMs ?? p.hpaDownscaleStabilizationMs,
    hpaTolerance: o.hpaTolerance ?? 0.1,
    hpaCpuInitializationPeriodMs: o.hpaCpuInitializationPeriodMs ?? 300_000,
    hpaInitialReadinessDelayMs: o.hpaInitialReadinessDelayMs ?? 30_000,
    metricsAdvertiseAddress: o.metricsAdvertiseAddress ?? process.env.KUBELAB_METRICS_ADVERTISE_ADDRESS ?? firstExternalIPv4() ?? '127.0.0.1',
  };
  if (!(cfg.hpaTolerance >= 0 && cfg.hpaTolerance < 1)) throw new ConfigError(`--horizontal-pod-autoscaler-tolerance: must be in [0, 1) (got ${cfg.hpaTolerance})`);
  if (!Number.isInteger(cfg.metricsPort) || cfg.metricsPort < 0 || cfg.metricsPort > 65535) throw new ConfigError(`--metrics-port: ${cfg.metricsPort} is not a port`);
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(cfg.metricsAdvertiseAddress))
    throw new ConfigError(`--metrics-advertise-address: "${cfg.metricsAdvertiseAddress}" is not an IPv4 address`);
  if (cfg.nodeMonitorPeriodMs >= cfg.nodeMonitorGracePeriodMs)
    throw new ConfigError('--node-monitor-period: must be shorter than --node-monitor-grace-period');
  return cfg;
}
