/** Scheduler options (flags/env) → validated config with every default filled; durations in ms. */
import { hostname } from 'node:os';
import { loadClientTls, type ClientTls, type ClientTlsOptions } from '../component-base/tls.js';
import { TIMING, isTimingPreset } from '../component-base/timing.js';

export interface SchedulerOptions extends ClientTlsOptions {
  apiserver?: string;
  /** TLS to the apiserver (CA + this scheduler's client certificate); none: plain gRPC. */
  tls?: ClientTls;
  adminPort?: number;
  bindAddress?: string;
  schedulerName?: string;
  /** Timing preset (component-base/timing.ts): gives the leader-election timings unless those are set. */
  timing?: string;
  leaderElect?: boolean;
  leaseNamespace?: string;
  leaseName?: string;
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** 0: adaptive, as kube-scheduler (50% minus 1% per 125 nodes, at least 5%, at least 100 nodes). */
  percentageOfNodesToScore?: number;
  /** Bindings written concurrently while the next pods are scheduled against the assumed state. */
  bindConcurrency?: number;
  podInitialBackoffMs?: number;
  podMaxBackoffMs?: number;
  /** Record a Normal "Scheduled" event per bound pod, as kube-scheduler does. */
  scheduledEvents?: boolean;
  /** Keep the last attempt of each pod (per-node filter verdicts, per-plugin scores) for `/debug/attempts`. */
  recordAttempts?: boolean;
}

export interface SchedulerConfig {
  apiserver: string;
  tls?: ClientTls;
  /** Bearer token sent to the apiserver (--token), beside or instead of a client certificate. */
  token?: string;
  adminPort: number;
  bindAddress: string;
  schedulerName: string;
  leaderElect: boolean;
  leaseNamespace: string;
  leaseName: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  percentageOfNodesToScore: number;
  bindConcurrency: number;
  podInitialBackoffMs: number;
  podMaxBackoffMs: number;
  scheduledEvents: boolean;
  recordAttempts: boolean;
}

/** Thrown for an invalid option; the message names the flag. */
export class SchedulerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchedulerConfigError';
  }
}

export function compileSchedulerConfig(o: SchedulerOptions = {}): SchedulerConfig {
  const timing = o.timing ?? 'default';
  if (!isTimingPreset(timing)) throw new SchedulerConfigError(`--timing: "${timing}" is not a preset (lab, default)`);
  const le = TIMING[timing].leaderElection;
  const cfg: SchedulerConfig = {
    apiserver: o.apiserver ?? process.env.KUBELAB_APISERVER ?? '127.0.0.1:7443',
    tls: o.tls ?? loadClientTls(o),
    ...(o.token ? { token: o.token } : {}),
    adminPort: o.adminPort ?? 10259,
    bindAddress: o.bindAddress ?? '0.0.0.0',
    schedulerName: o.schedulerName ?? 'default-scheduler',
    leaderElect: o.leaderElect ?? true,
    leaseNamespace: o.leaseNamespace ?? 'kube-system',
    leaseName: o.leaseName ?? 'kube-scheduler',
    identity: o.identity ?? `${hostname()}_${process.pid}_${Math.random().toString(16).slice(2, 10)}`,
    leaseDurationMs: o.leaseDurationMs ?? le.leaseDurationMs,
    renewDeadlineMs: o.renewDeadlineMs ?? le.renewDeadlineMs,
    retryPeriodMs: o.retryPeriodMs ?? le.retryPeriodMs,
    percentageOfNodesToScore: o.percentageOfNodesToScore ?? 0,
    bindConcurrency: o.bindConcurrency ?? 64,
    podInitialBackoffMs: o.podInitialBackoffMs ?? 1000,
    podMaxBackoffMs: o.podMaxBackoffMs ?? 10_000,
    scheduledEvents: o.scheduledEvents ?? true,
    recordAttempts: o.recordAttempts ?? true,
  };
  if (!/^[^:\s]+:\d+$/.test(cfg.apiserver)) throw new SchedulerConfigError(`--apiserver: "${cfg.apiserver}" is not host:port`);
  if (cfg.adminPort < 0 || cfg.adminPort > 65535) throw new SchedulerConfigError(`--admin-port: ${cfg.adminPort} is not a port`);
  if (cfg.percentageOfNodesToScore < 0 || cfg.percentageOfNodesToScore > 100)
    throw new SchedulerConfigError(`--percentage-of-nodes-to-score: ${cfg.percentageOfNodesToScore} is not between 0 and 100`);
  if (cfg.bindConcurrency < 1) throw new SchedulerConfigError(`--bind-concurrency: must be at least 1 (got ${cfg.bindConcurrency})`);
  if (cfg.leaderElect) {
    if (cfg.retryPeriodMs <= 0) throw new SchedulerConfigError('--leader-elect-retry-period: must be positive');
    if (cfg.renewDeadlineMs <= cfg.retryPeriodMs)
      throw new SchedulerConfigError('--leader-elect-renew-deadline: must be longer than --leader-elect-retry-period');
    if (cfg.leaseDurationMs <= cfg.renewDeadlineMs)
      throw new SchedulerConfigError('--leader-elect-lease-duration: must be longer than --leader-elect-renew-deadline');
  }
  if (cfg.podMaxBackoffMs < cfg.podInitialBackoffMs)
    throw new SchedulerConfigError('--pod-max-backoff: must not be shorter than --pod-initial-backoff');
  return cfg;
}

/**
 * How many feasible nodes to find before scoring, as kube-scheduler's percentageOfNodesToScore: all nodes
 * below 100; otherwise `percentage` (0: adaptive 50% − numAllNodes/125, at least 5%) and at least 100.
 * For 1000 nodes the adaptive value is 42% → 420 nodes.
 */
export function numFeasibleNodesToFind(numAllNodes: number, percentage: number): number {
  if (numAllNodes < 100 || percentage >= 100) return numAllNodes;
  let pct = percentage;
  if (pct <= 0) pct = Math.max(5, 50 - Math.floor(numAllNodes / 125));
  return Math.max(100, Math.floor((numAllNodes * pct) / 100));
}
