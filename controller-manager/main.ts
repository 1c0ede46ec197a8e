/** kubelab controller-manager entry: flags → config → startControllerManager, until SIGTERM. */
import { Command } from 'commander';
import { createLogger } from '../client/log.js';
import { durationFlag, intFlag, runUntilSignal } from '../client/process.js';
import { addClientTlsFlags, clientTlsFromFlags } from '../client/tls.js';
import { ALL_CONTROLLERS } from './config.js';
import { compileControllerManagerConfig, startControllerManager } from './index.js';

function boolFlag(name: string): (v: string) => boolean {
  return (v: string) => {
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    throw new Error(`${name}: "${v}" is not a boolean (true, false)`);
  };
}

function floatFlag(name: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`${name}: "${v}" is not a number`);
    return n;
  };
}

export async function main(argv: string[]): Promise<void> {
  const cmd = addClientTlsFlags(new Command('controller-manager'))
    .description('kubelab controller-manager: workload, node lifecycle, endpoints, garbage collection and volume controllers')
    .option('--apiserver <host:port>', 'apiserver gRPC address', process.env.KUBELAB_APISERVER)
    .option('--admin-port <port>', 'healthz/metrics port', intFlag('--admin-port'))
    .option('--bind-address <ip>', 'address of the admin port')
    .option('--timing <preset>', 'timing preset: lab (heal in seconds) or default (Kubernetes defaults)', process.env.KUBELAB_TIMING)
    .option('--leader-elect <bool>', 'run only while holding Lease kube-system/kube-controller-manager', boolFlag('--leader-elect'))
    .option('--leader-elect-lease-duration <duration>', 'leader lease duration', durationFlag('--leader-elect-lease-duration'))
    .option('--leader-elect-renew-deadline <duration>', 'leader renew deadline', durationFlag('--leader-elect-renew-deadline'))
    .option('--leader-elect-retry-period <duration>', 'leader retry period', durationFlag('--leader-elect-retry-period'))
    .option('--node-monitor-grace-period <duration>', 'a node whose lease is older than this becomes Ready=Unknown', durationFlag('--node-monitor-grace-period'))
    .option('--node-monitor-period <duration>', 'how often node health is checked', durationFlag('--node-monitor-period'))
    .option('--node-startup-grace-period <duration>', 'grace for a newly registered node to report Ready', durationFlag('--node-startup-grace-period'))
    .option('--node-eviction-rate <per-second>', 'nodes tainted NoExecute per second', floatFlag('--node-eviction-rate'))
    .option('--force-delete-lost-pods <bool>', 'force-delete terminating pods on unreachable nodes after their grace period', boolFlag('--force-delete-lost-pods'))
    .option('--pod-gc-period <duration>', 'how often the pod garbage collector re-checks', durationFlag('--pod-gc-period'))
    .option('--job-backoff-base <duration>', 'first delay before recreating a failed Job pod', durationFlag('--job-backoff-base'))
    .option('--controllers <list>', `controllers to run: * or names, -name disables (${ALL_CONTROLLERS.join(', ')})`)
    .option('--concurrent-syncs <n>', 'workers per controller', intFlag('--concurrent-syncs'))
    .option('--metric-resolution <duration>', 'how often each node is scraped for resource usage (default 15s; lab 5s)', durationFlag('--metric-resolution'))
    .option('--metrics-port <port>', 'port of the metrics.k8s.io API (0: any free port)', intFlag('--metrics-port'))
    .option('--metrics-advertise-address <ip>', 'address the apiserver reaches the metrics API at (default: this host\'s first non-loopback IPv4)')
    .option('--horizontal-pod-autoscaler-sync-period <duration>', 'how often each HPA is reconciled (default 15s; lab 5s)', durationFlag('--horizontal-pod-autoscaler-sync-period'))
    .option('--horizontal-pod-autoscaler-downscale-stabilization <duration>', 'scale-down stabilization window of HPAs that set none (default 5m; lab 30s)', durationFlag('--horizontal-pod-autoscaler-downscale-stabilization'))
    .option('--horizontal-pod-autoscaler-tolerance <ratio>', 'usage ratio change below which an HPA does not scale (default 0.1)', floatFlag('--horizontal-pod-autoscaler-tolerance'))
    .option('--identity <id>', 'leader election identity (default: hostname_pid)')
    .exitOverride();
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts<Record<string, unknown>>();
  const cfg = compileControllerManagerConfig({
    apiserver: o.apiserver as string | undefined,
    tls: clientTlsFromFlags(o),
    adminPort: o.adminPort as number | undefined,
    bindAddress: o.bindAddress as string | undefined,
    timing: o.timing as string | undefined,
    leaderElect: o.leaderElect as boolean | undefined,
    leaderElectLeaseDurationMs: o.leaderElectLeaseDuration as number | undefined,
    leaderElectRenewDeadlineMs: o.leaderElectRenewDeadline as number | undefined,
    leaderElectRetryPeriodMs: o.leaderElectRetryPeriod as number | undefined,
    nodeMonitorGracePeriodMs: o.nodeMonitorGracePeriod as number | undefined,
    nodeMonitorPeriodMs: o.nodeMonitorPeriod as number | undefined,
    nodeStartupGracePeriodMs: o.nodeStartupGracePeriod as number | undefined,
    nodeEvictionRate: o.nodeEvictionRate as number | undefined,
    forceDeleteLostPods: o.forceDeleteLostPods as boolean | undefined,
    podGcPeriodMs: o.podGcPeriod as number | undefined,
    jobBackoffBaseMs: o.jobBackoffBase as number | undefined,
    controllers: o.controllers as string | undefined,
    workers: o.concurrentSyncs as number | undefined,
    metricResolutionMs: o.metricResolution as number | undefined,
    hpaSyncPeriodMs: o.horizontalPodAutoscalerSyncPeriod as number | undefined,
    hpaDownscaleStabilizationMs: o.horizontalPodAutoscalerDownscaleStabilization as number | undefined,
    hpaTolerance: o.horizontalPodAutoscalerTolerance as number | undefined,
    metricsPort: o.metricsPort as number | undefined,
    metricsAdvertiseAddress: o.metricsAdvertiseAddress as string | undefined,
    identity: o.identity as string | undefined,
  });
  const log = createLogger('controller-manager');
  await runUntilSignal(log, (signal) => startControllerManager(cfg, signal, { logger: log }));
}
