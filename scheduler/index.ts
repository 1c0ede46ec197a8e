/**
 * The kubelab scheduler: `startScheduler(config, signal)` runs it in-process (tests, benchmarks);
 * `main.ts` is the process entry. Only the holder of the kube-system/kube-scheduler Lease schedules.
 */
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { ApiClient } from '../client/api.js';
import { Liveness, newMetricsRegistry, startAdminServer } from '../component-base/admin.js';
import { LeaderElector } from '../client/leaderelection.js';
import { createLogger } from '../component-base/log.js';
import type { SchedulerConfig } from './config.js';
import { Scheduler, type SchedulerStats } from './scheduler.js';

export { compileSchedulerConfig, numFeasibleNodesToFind, SchedulerConfigError, type SchedulerConfig, type SchedulerOptions } from './config.js';
export { Scheduler, type SchedulerStats } from './scheduler.js';
export { Algorithm } from './algorithm.js';
export { AttemptStore, type AttemptRecord, type NodeVerdict, type NodeScore } from './attempts.js';
export { fitErrorMessage, Diagnosis } from './diagnosis.js';
export * from './framework.js';

/** A scheduling loop busy for three of these without turning fails /healthz. */
const SCHEDULING_LOOP_PERIOD_MS = 30_000;

export interface SchedulerDeps {
  logger?: Logger;
  /** A client to use instead of dialing config.apiserver (not closed on stop). */
  client?: ApiClient;
}

/** Why a running scheduler ended: its signal aborted, or it lost the Lease (a process should then exit). */
export type StopReason = 'stopped' | 'lost-leadership';

export interface RunningScheduler {
  readonly adminPort: number;
  /** Resolves once the scheduler has stopped (informers, admin server and binds all finished). */
  readonly done: Promise<StopReason>;
  isLeader(): boolean;
  readonly stats: SchedulerStats;
  readonly scheduler: Scheduler;
}

export async function startScheduler(config: SchedulerConfig, signal: AbortSignal, deps: SchedulerDeps = {}): Promise<RunningScheduler> {
  const log = deps.logger ?? createLogger('scheduler');
  const client = deps.client ?? new ApiClient(config.apiserver, { tls: config.tls, token: config.token });
  const registry = newMetricsRegistry('scheduler');
  const inner = new AbortController();
  // Four informers (two listeners each: sync wait and watch), the queue flusher and the leader elector all
  // listen on this one signal: more than Node's default warning threshold of 10, and not a leak.
  setMaxListeners(32, inner.signal);
  const onAbort = (): void => inner.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  const sched = new Scheduler(client, config, log, registry);
  let leading = !config.leaderElect;
  const liveness = new Liveness();
  const admin = await startAdminServer({
    port: config.adminPort,
    host: config.bindAddress,
    registry,
    healthy: () => liveness.check(),
    routes: { '/debug/attempts': (q) => sched.attempts.route(q) },
  });
  // Each turn decides for one pod synchronously; a binding holds a slot for at most its call deadline.
  const schedulingLoop = { periodMs: SCHEDULING_LOOP_PERIOD_MS };
  sched.startInformers(inner.signal);

  const done = (async (): Promise<StopReason> => {
    let reason: StopReason = 'stopped';
    try {
      await sched.waitForSync(inner.signal);
      if (!config.leaderElect) {
        await liveness.track('scheduling', schedulingLoop, inner.signal, (h) => sched.run(inner.signal, h));
      } else {
        // Its own connection (Kubernetes' leader-election client): a renewal must not wait behind the pod watch's
        // traffic on a busy connection (bench/scale.ts: the leader lost its lease during a 30,000-pod burst).
        const electionClient = deps.client ?? new ApiClient(config.apiserver, { tls: config.tls, token: config.token, ownConnection: true });
        const elector = new LeaderElector(
          electionClient,
          {
            namespace: config.leaseNamespace,
            name: config.leaseName,
            identity: config.identity,
            leaseDurationMs: config.leaseDurationMs,
            renewDeadlineMs: config.renewDeadlineMs,
            retryPeriodMs: config.retryPeriodMs,
          },
          log,
        );
        try {
          await elector.run(inner.signal, async (leaderSignal) => {
            leading = true;
            try {
              await liveness.track('scheduling', schedulingLoop, leaderSignal, (h) => sched.run(leaderSignal, h));
            } finally {
              leading = false;
            }
          });
        } finally {
          // After run(): a stopping leader releases its lease through this client, so the standby takes over at once.
          if (electionClient !== client) electionClient.close();
        }
        if (!inner.signal.aborted) reason = 'lost-leadership';
      }
    } catch (err) {
      if (!inner.signal.aborted) throw err;
    } finally {
      leading = false;
      signal.removeEventListener('abort', onAbort);
      inner.abort();
      await Promise.allSettled([sched.pods.stopped(), sched.nodes.stopped(), sched.services.stopped(), sched.namespaces.stopped()]);
      await admin.close();
      if (!deps.client) client.close();
    }
    return reason;
  })();

  return {
    adminPort: admin.port,
    done,
    isLeader: () => leading,
    stats: sched.stats,
    scheduler: sched,
  };
}
