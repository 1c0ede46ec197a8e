/** kubelab scheduler entry: flags → config → startScheduler, until SIGTERM or lost leadership. */
import { Command } from 'commander';
import { createLogger } from '../client/log.js';
import { durationFlag, intFlag, runUntilSignal } from '../client/process.js';
import { addClientTlsFlags, clientTlsFromFlags } from '../client/tls.js';
import { compileSchedulerConfig } from './config.js';
import { startScheduler } from './index.js';

export async function main(argv: string[]): Promise<void> {
  const cmd = addClientTlsFlags(new Command('scheduler'))
    .description('kubelab scheduler: binds pods without a node to the best node')
    .option('--apiserver <host:port>', 'apiserver gRPC address', process.env.KUBELAB_APISERVER)
    .option('--admin-port <port>', 'healthz/metrics port', intFlag('--admin-port'))
    .option('--bind-address <ip>', 'address the admin port listens on')
    .option('--scheduler-name <name>', 'schedule only pods with this spec.schedulerName')
    .option('--leader-elect [bool]', 'elect a leader among replicas on a Lease (true/false)', (v: string) => {
      if (v !== 'true' && v !== 'false') throw new Error(`--leader-elect: "${v}" is not true or false`);
      return v === 'true';
    })
    .option('--no-leader-elect', 'run without leader election')
    .option('--leader-elect-lease-duration <duration>', 'how long a non-renewed lease stays held', durationFlag('--leader-elect-lease-duration'))
    .option('--leader-elect-renew-deadline <duration>', 'how long the leader keeps trying to renew', durationFlag('--leader-elect-renew-deadline'))
    .option('--leader-elect-retry-period <duration>', 'interval between lease attempts', durationFlag('--leader-elect-retry-period'))
    .option('--leader-elect-resource-namespace <ns>', 'namespace of the Lease')
    .option('--leader-elect-resource-name <name>', 'name of the Lease')
    .option('--identity <id>', 'holder identity (default hostname_pid_random)')
    .option('--percentage-of-nodes-to-score <n>', 'share of nodes to find feasible before scoring (0: adaptive)', intFlag('--percentage-of-nodes-to-score'))
    .option('--bind-concurrency <n>', 'bindings written concurrently', intFlag('--bind-concurrency'))
    .option('--pod-initial-backoff <duration>', 'first retry delay of a failed pod', durationFlag('--pod-initial-backoff'))
    .option('--pod-max-backoff <duration>', 'maximum retry delay of a failed pod', durationFlag('--pod-max-backoff'))
    .option('--no-scheduled-events', 'do not record a Scheduled event per bound pod')
    .exitOverride();
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts<Record<string, unknown>>();
  const cfg = compileSchedulerConfig({
    apiserver: o.apiserver as string | undefined,
    tls: clientTlsFromFlags(o),
    adminPort: o.adminPort as number | undefined,
    bindAddress: o.bindAddress as string | undefined,
    schedulerName: o.schedulerName as string | undefined,
    leaderElect: o.leaderElect === undefined ? undefined : o.leaderElect !== false,
    leaseDurationMs: o.leaderElectLeaseDuration as number | undefined,
    renewDeadlineMs: o.leaderElectRenewDeadline as number | undefined,
    retryPeriodMs: o.leaderElectRetryPeriod as number | undefined,
    leaseNamespace: o.leaderElectResourceNamespace as string | undefined,
    leaseName: o.leaderElectResourceName as string | undefined,
    identity: o.identity as string | undefined,
    percentageOfNodesToScore: o.percentageOfNodesToScore as number | undefined,
    bindConcurrency: o.bindConcurrency as number | undefined,
    podInitialBackoffMs: o.podInitialBackoff as number | undefined,
    podMaxBackoffMs: o.podMaxBackoff as number | undefined,
    scheduledEvents: o.scheduledEvents as boolean | undefined,
  });
  const log = createLogger('scheduler');
  await runUntilSignal(log, async (signal) => {
    const running = await startScheduler(cfg, signal, { logger: log });
    // Kubernetes components exit when they lose leadership; the supervisor restarts them as candidates.
    if ((await running.done) === 'lost-leadership') throw new Error('lost leadership of the scheduler lease');
  });
}
