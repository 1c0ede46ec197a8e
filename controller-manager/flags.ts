/** The controller-manager's flags, declared once: commander's options and its options object both come from here. */
import { CLIENT_TLS_FLAGS } from '../component-base/tls.js';
import { boolFlag, durationFlag, floatFlag, intFlag, stringFlag, type FlagsFor } from '../component-base/flags.js';
import { ALL_CONTROLLERS, type ControllerManagerOptions } from './config.js';

export const CONTROLLER_MANAGER_FLAGS = {
  ...CLIENT_TLS_FLAGS,
  apiserver: stringFlag('--apiserver <host:port>', 'apiserver gRPC address', { env: 'KUBELAB_APISERVER' }),
  adminPort: intFlag('--admin-port <port>', 'healthz/metrics port'),
  bindAddress: stringFlag('--bind-address <ip>', 'address of the admin port'),
  timing: stringFlag('--timing <preset>', 'timing preset: lab (heal in seconds) or default (Kubernetes defaults)', { env: 'KUBELAB_TIMING' }),
  leaderElect: boolFlag('--leader-elect', 'run only while holding Lease kube-system/kube-controller-manager'),
  leaderElectLeaseDurationMs: durationFlag('--leader-elect-lease-duration <duration>', 'leader lease duration'),
  leaderElectRenewDeadlineMs: durationFlag('--leader-elect-renew-deadline <duration>', 'leader renew deadline'),
  leaderElectRetryPeriodMs: durationFlag('--leader-elect-retry-period <duration>', 'leader retry period'),
  nodeMonitorGracePeriodMs: durationFlag('--node-monitor-grace-period <duration>', 'a node whose lease is older than this becomes Ready=Unknown'),
  nodeMonitorPeriodMs: durationFlag('--node-monitor-period <duration>', 'how often node health is checked'),
  nodeStartupGracePeriodMs: durationFlag('--node-startup-grace-period <duration>', 'grace for a newly registered node to report Ready'),
  nodeEvictionRate: floatFlag('--node-eviction-rate <per-second>', 'nodes tainted NoExecute per second'),
  clusterName: stringFlag('--cluster-name <name>', "lab cluster whose node containers' deaths in Docker count as lost nodes (lab preset)", { env: 'KUBELAB_CLUSTER' }),
  forceDeleteLostPods: boolFlag('--force-delete-lost-pods', 'force-delete terminating pods on unreachable nodes after their grace period'),
  podGcPeriodMs: durationFlag('--pod-gc-period <duration>', 'how often the pod garbage collector re-checks'),
  jobBackoffBaseMs: durationFlag('--job-backoff-base <duration>', 'first delay before recreating a failed Job pod'),
  controllers: stringFlag('--controllers <list>', `controllers to run: * or names, -name disables (${ALL_CONTROLLERS.join(', ')})`),
  workers: intFlag('--concurrent-syncs <n>', 'workers per controller'),
  metricResolutionMs: durationFlag('--metric-resolution <duration>', 'how often each node is scraped for resource usage (default 15s; lab 5s)'),
  metricsPort: intFlag('--metrics-port <port>', 'port of the metrics.k8s.io API (0: any free port)'),
  metricsAdvertiseAddress: stringFlag(
    '--metrics-advertise-address <ip>',
    "address the apiserver reaches the metrics API at (default: this host's first non-loopback IPv4)",
  ),
  hpaSyncPeriodMs: durationFlag('--horizontal-pod-autoscaler-sync-period <duration>', 'how often each HPA is reconciled (default 15s; lab 5s)'),
  hpaDownscaleStabilizationMs: durationFlag(
    '--horizontal-pod-autoscaler-downscale-stabilization <duration>',
    'scale-down stabilization window of HPAs that set none (default 5m; lab 30s)',
  ),
  hpaTolerance: floatFlag('--horizontal-pod-autoscaler-tolerance <ratio>', 'usage ratio change below which an HPA does not scale (default 0.1)'),
  identity: stringFlag('--identity <id>', 'leader election identity (default: hostname_pid)'),
} satisfies FlagsFor<ControllerManagerOptions>;
