/** The scheduler's flags, declared once: commander's options and `SchedulerOptions` both come from here. */
import { boolFlag, durationFlag, intFlag, stringFlag, type FlagsFor } from '../component-base/flags.js';
import { CLIENT_TLS_FLAGS } from '../component-base/tls.js';
import type { SchedulerOptions } from './config.js';

export const SCHEDULER_FLAGS = {
  ...CLIENT_TLS_FLAGS,
  apiserver: stringFlag('--apiserver <host:port>', 'apiserver gRPC address', { env: 'KUBELAB_APISERVER' }),
  adminPort: intFlag('--admin-port <port>', 'healthz/metrics port'),
  bindAddress: stringFlag('--bind-address <ip>', 'address the admin port listens on'),
  schedulerName: stringFlag('--scheduler-name <name>', 'schedule only pods with this spec.schedulerName'),
  timing: stringFlag('--timing <preset>', 'timing preset: default (Kubernetes) | lab (values in component-base/timing.ts)', { env: 'KUBELAB_TIMING' }),
  leaderElect: boolFlag('--leader-elect', 'elect a leader among replicas on a Lease (default true)'),
  leaseDurationMs: durationFlag('--leader-elect-lease-duration <duration>', 'how long a non-renewed lease stays held'),
  renewDeadlineMs: durationFlag('--leader-elect-renew-deadline <duration>', 'how long the leader keeps trying to renew'),
  retryPeriodMs: durationFlag('--leader-elect-retry-period <duration>', 'interval between lease attempts'),
  leaseNamespace: stringFlag('--leader-elect-resource-namespace <ns>', 'namespace of the Lease'),
  leaseName: stringFlag('--leader-elect-resource-name <name>', 'name of the Lease'),
  identity: stringFlag('--identity <id>', 'holder identity (default hostname_pid_random)'),
  percentageOfNodesToScore: intFlag('--percentage-of-nodes-to-score <n>', 'share of nodes to find feasible before scoring (0: adaptive)'),
  bindConcurrency: intFlag('--bind-concurrency <n>', 'bindings written concurrently'),
  podInitialBackoffMs: durationFlag('--pod-initial-backoff <duration>', 'first retry delay of a failed pod'),
  podMaxBackoffMs: durationFlag('--pod-max-backoff <duration>', 'maximum retry delay of a failed pod'),
  scheduledEvents: boolFlag('--scheduled-events', 'record a Scheduled event per bound pod (default true)'),
  recordAttempts: boolFlag('--record-attempts', "keep each pod's last attempt (filter verdicts, scores) for /debug/attempts (default true)"),
} satisfies FlagsFor<SchedulerOptions>;
