/**
 * The timing presets, written once: every component reads its part of a preset from here (`--timing
 * lab|default`), the lab's container definitions (cli/lab/spec.ts, and through it docker-compose.yml)
 * pass only the preset's name, and docs/timing.md's table is generated from `timingTableMarkdown()`
 * (component-base/timing.test.ts fails when the two disagree). Durations in ms.
 *
 * `default` is Kubernetes' own defaults; `lab` makes a lost node's pods run elsewhere within seconds
 * on one machine (see docs/timing.md for what each value buys and what it risks).
 */

export const TIMING_PRESETS = ['default', 'lab'] as const;
export type TimingPreset = (typeof TIMING_PRESETS)[number];

export function isTimingPreset(v: unknown): v is TimingPreset {
  return typeof v === 'string' && (TIMING_PRESETS as readonly string[]).includes(v);
}

export interface LeaderElectionTiming {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/** One preset: each component's timers. */
export interface Timing {
  kubelet: {
    /** The node Lease's duration; the kubelet renews it every quarter of this (Kubernetes' renewIntervalFraction). */
    nodeLeaseDurationMs: number;
    /** How often the kubelet checks its node status (written when it changed). */
    nodeStatusUpdateFrequencyMs: number;
    /** An unchanged node status is still written this often. */
    nodeStatusReportFrequencyMs: number;
    /** How often running pods' configMap/secret/downwardAPI volumes are refreshed. */
    volumeSyncPeriodMs: number;
  };
  apiserver: {
    /** tolerationSeconds given to every pod for the not-ready/unreachable NoExecute taints. */
    defaultTolerationSeconds: number;
  };
  controllerManager: {
    nodeMonitorGracePeriodMs: number;
    nodeMonitorPeriodMs: number;
    nodeStartupGracePeriodMs: number;
    /** Nodes tainted NoExecute per second. */
    nodeEvictionRate: number;
    forceDeleteLostPods: boolean;
    /**
     * Not Kubernetes (lab only): a node whose container Docker reports dead, and still stopped after
     * this long, is lost at once instead of after the grace period. Undefined: off.
     */
    dockerDeathConfirmMs?: number;
    podGcPeriodMs: number;
    jobBackoffBaseMs: number;
    metricResolutionMs: number;
    hpaSyncPeriodMs: number;
    hpaDownscaleStabilizationMs: number;
  };
  /** Scheduler and controller-manager leader election. */
  leaderElection: LeaderElectionTiming;
}

export const TIMING: Readonly<Record<TimingPreset, Timing>> = {
  default: {
    kubelet: { nodeLeaseDurationMs: 40_000, nodeStatusUpdateFrequencyMs: 10_000, nodeStatusReportFrequencyMs: 300_000, volumeSyncPeriodMs: 60_000 },
    apiserver: { defaultTolerationSeconds: 300 },
    controllerManager: {
      nodeMonitorGracePeriodMs: 40_000,
      nodeMonitorPeriodMs: 5_000,
      nodeStartupGracePeriodMs: 60_000,
      nodeEvictionRate: 0.1,
      forceDeleteLostPods: false,
      podGcPeriodMs: 20_000,
      jobBackoffBaseMs: 10_000,
      metricResolutionMs: 15_000,
      hpaSyncPeriodMs: 15_000,
      hpaDownscaleStabilizationMs: 300_000,
    },
    leaderElection: { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 },
  },
  lab: {
    kubelet: { nodeLeaseDurationMs: 5_000, nodeStatusUpdateFrequencyMs: 2_000, nodeStatusReportFrequencyMs: 60_000, volumeSyncPeriodMs: 5_000 },
    apiserver: { defaultTolerationSeconds: 1 },
    controllerManager: {
      nodeMonitorGracePeriodMs: 5_000,
      nodeMonitorPeriodMs: 1_000,
      nodeStartupGracePeriodMs: 15_000,
      nodeEvictionRate: 10,
      forceDeleteLostPods: true,
      dockerDeathConfirmMs: 1_500,
      podGcPeriodMs: 2_000,
      jobBackoffBaseMs: 1_000,
      metricResolutionMs: 5_000,
      hpaSyncPeriodMs: 5_000,
      hpaDownscaleStabilizationMs: 30_000,
    },
    leaderElection: { leaseDurationMs: 6_000, renewDeadlineMs: 4_000, retryPeriodMs: 1_000 },
  },
};

/** The kubelet renews its Lease every quarter of the lease duration (Kubernetes' renewIntervalFraction 0.25). */
export function leaseRenewIntervalMs(nodeLeaseDurationMs: number): number {
  return Math.max(250, Math.floor(nodeLeaseDurationMs / 4));
}

/**
 * The timers a crashed node's Deployment pods wait out before they are replaced: the lease must be
 * older than the grace period (it was renewed 0 … one renewal interval before the crash), then the
 * pods' toleration of the NoExecute taint. Seconds.
 */
export function healTimers(t: Timing): { graceS: number; renewS: number; tolerationS: number; fromS: number; upToS: number } {
  const graceS = t.controllerManager.nodeMonitorGracePeriodMs / 1000;
  const renewS = leaseRenewIntervalMs(t.kubelet.nodeLeaseDurationMs) / 1000;
  const tolerationS = t.apiserver.defaultTolerationSeconds;
  return { graceS, renewS, tolerationS, fromS: graceS - renewS + tolerationS, upToS: graceS + tolerationS };
}

function dur(ms: number): string {
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}

interface Row {
  setting: string;
  flag: string;
  value: (t: Timing) => string;
}

/** The rows of docs/timing.md's preset table, in order. */
export const TIMING_ROWS: readonly Row[] = [
  { setting: 'node lease duration (kubelet renews every ¼)', flag: 'kubelet `--node-lease-duration`', value: (t) => `${dur(t.kubelet.nodeLeaseDurationMs)} (renewed every ${dur(leaseRenewIntervalMs(t.kubelet.nodeLeaseDurationMs))})` },
  { setting: 'node status checked (written when changed)', flag: 'kubelet `--node-status-update-frequency`', value: (t) => dur(t.kubelet.nodeStatusUpdateFrequencyMs) },
  { setting: 'unchanged node status written anyway', flag: 'kubelet (report frequency)', value: (t) => dur(t.kubelet.nodeStatusReportFrequencyMs) },
  { setting: 'configMap/secret volumes refreshed', flag: 'kubelet (sync period)', value: (t) => dur(t.kubelet.volumeSyncPeriodMs) },
  { setting: 'lease not renewed → Ready=Unknown', flag: '`--node-monitor-grace-period`', value: (t) => dur(t.controllerManager.nodeMonitorGracePeriodMs) },
  { setting: 'node health re-checked at least every', flag: '`--node-monitor-period`', value: (t) => dur(t.controllerManager.nodeMonitorPeriodMs) },
  { setting: 'new node must report Ready within', flag: '`--node-startup-grace-period`', value: (t) => dur(t.controllerManager.nodeStartupGracePeriodMs) },
  {
    setting: 'node container dead in Docker → Ready=Unknown after (lab only, not Kubernetes)',
    flag: 'controller-manager `--cluster-name` (+ docker.sock)',
    value: (t) => (t.controllerManager.dockerDeathConfirmMs === undefined ? 'off' : dur(t.controllerManager.dockerDeathConfirmMs)),
  },
  { setting: 'pod toleration of not-ready/unreachable', flag: 'apiserver `--default-toleration-seconds`', value: (t) => `${t.apiserver.defaultTolerationSeconds} s` },
  { setting: 'nodes tainted NoExecute per second', flag: '`--node-eviction-rate`', value: (t) => String(t.controllerManager.nodeEvictionRate) },
  { setting: 'force-delete terminating pods on lost nodes', flag: '`--force-delete-lost-pods`', value: (t) => String(t.controllerManager.forceDeleteLostPods) },
  { setting: 'pod GC re-check', flag: '`--pod-gc-period`', value: (t) => dur(t.controllerManager.podGcPeriodMs) },
  { setting: 'first Job retry delay (doubles, max 6 min)', flag: '`--job-backoff-base`', value: (t) => dur(t.controllerManager.jobBackoffBaseMs) },
  {
    setting: 'leader lease / renew deadline / retry',
    flag: 'scheduler, controller-manager `--leader-elect-*`',
    value: (t) => [t.leaderElection.leaseDurationMs, t.leaderElection.renewDeadlineMs, t.leaderElection.retryPeriodMs].map(dur).join(' / '),
  },
  { setting: 'node resource usage scraped every', flag: '`--metric-resolution`', value: (t) => dur(t.controllerManager.metricResolutionMs) },
  { setting: 'HPA reconcile period', flag: '`--horizontal-pod-autoscaler-sync-period`', value: (t) => dur(t.controllerManager.hpaSyncPeriodMs) },
  {
    setting: 'HPA scale-down stabilization (when its behavior sets none)',
    flag: '`--horizontal-pod-autoscaler-downscale-stabilization`',
    value: (t) => dur(t.controllerManager.hpaDownscaleStabilizationMs),
  },
];

/** docs/timing.md's preset table, generated from TIMING. */
export function timingTableMarkdown(): string {
  const head = ['| setting | flag (controller-manager unless named) | `default` (Kubernetes) | `lab` |', '|---|---|---|---|'];
  const rows = TIMING_ROWS.map((r) => `| ${r.setting} | ${r.flag} | ${r.value(TIMING.default)} | ${r.value(TIMING.lab)} |`);
  const heal = (p: TimingPreset): string => {
    const h = healTimers(TIMING[p]);
    return `${h.fromS}–${h.upToS} s`;
  };
  rows.push(`| timers a crashed node's Deployment pods wait out (grace − lease age + toleration) | computed | ${heal('default')} | ${heal('lab')} |`);
  return [...head, ...rows].join('\n');
}
