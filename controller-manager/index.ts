/**
 * The controller-manager: leader election on Lease kube-system/kube-controller-manager; the leader
 * starts the shared informers and runs every enabled controller on the shared ControllerRunner.
 * `startControllerManager` resolves once `signal` aborts and everything has stopped.
 */
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { ApiClient } from '../client/api.js';
import { Liveness, newMetricsRegistry, startAdminServer, type AdminServer } from '../component-base/admin.js';
import { realClock, type Clock } from '../component-base/clock.js';
import { EventRecorder } from '../client/events.js';
import { LeaderElector } from '../client/leaderelection.js';
import { nullLogger } from '../component-base/log.js';
import { publishTiming } from '../client/publishedtiming.js';
import { ControllerRunner, type Reconciler } from '../client/runner.js';
import type { ControllerManagerConfig, ControllerName } from './config.js';
import { SharedInformers, type Controller, type ControllerContext } from './context.js';
import { ReplicaSetController } from './replicaset.js';
import { DeploymentController } from './deployment.js';
import { StatefulSetController } from './statefulset.js';
import { DaemonSetController } from './daemonset.js';
import { JobController } from './job.js';
import { CronJobController } from './cronjob.js';
import { DisruptionController } from './disruption.js';
import { EndpointsController } from './endpoints.js';
import { NodeLifecycleController } from './nodelifecycle.js';
import { TaintEvictionController } from './tainteviction.js';
import { PodGcController } from './podgc.js';
import { GarbageCollector } from './garbagecollector.js';
import { NamespaceController } from './namespace.js';
import { VolumeBinderController } from './volume.js';
import { MetricsStore } from './metricsstore.js';
import { MetricsScraper } from './metricsscraper.js';
import { HorizontalPodAutoscalerController } from './hpa.js';

export { compileControllerManagerConfig, ConfigError, type ControllerManagerConfig, type ControllerManagerOptions } from './config.js';

export interface ControllerManagerDeps {
  logger?: Logger;
  clock?: Clock;
  /** Report the admin server's port (tests pass adminPort 0). */
  onAdmin?: (admin: AdminServer) => void;
  /** Called when this instance starts/stops leading (tests, HA). */
  onLeading?: (leading: boolean) => void;
}

const FACTORIES: Record<ControllerName, (ctx: ControllerContext) => Controller> = {
  replicaset: (c) => new ReplicaSetController(c),
  deployment: (c) => new DeploymentController(c),
  statefulset: (c) => new StatefulSetController(c),
  daemonset: (c) => new DaemonSetController(c),
  job: (c) => new JobController(c),
  cronjob: (c) => new CronJobController(c),
  endpoints: (c) => new EndpointsController(c),
  disruption: (c) => new DisruptionController(c),
  nodelifecycle: (c) => new NodeLifecycleController(c),
  'taint-eviction': (c) => new TaintEvictionController(c),
  podgc: (c) => new PodGcController(c),
  garbagecollector: (c) => new GarbageCollector(c),
  namespace: (c) => new NamespaceController(c),
  'persistentvolume-binder': (c) => new VolumeBinderController(c),
  'metrics-scraper': (c) => new MetricsScraper(c),
  horizontalpodautoscaling: (c) => new HorizontalPodAutoscalerController(c),
};

export async function startControllerManager(config: ControllerManagerConfig, signal: AbortSignal, deps: ControllerManagerDeps = {}): Promise<void> {
  setMaxListeners(0, signal);
  const log = (deps.logger ?? nullLogger()).child({ component: 'controller-manager' });
  const clock = deps.clock ?? realClock;
  const client = new ApiClient(config.apiserver, { tls: config.tls, token: config.token });
  // Leader election on a connection of its own (Kubernetes' leader-election client): a renewal never waits behind
  // the informers' watch traffic on a busy connection.
  const electionClient = new ApiClient(config.apiserver, { tls: config.tls, token: config.token, ownConnection: true });
  const registry = newMetricsRegistry('controller-manager');
  let leading = !config.leaderElect;
  let informers: SharedInformers | undefined;
  const liveness = new Liveness(clock);
  const admin = await startAdminServer({
    port: config.adminPort,
    host: config.bindAddress,
    registry,
    healthy: () => liveness.check(),
    ready: () => (!leading || informers?.allSynced() ? true : 'informers not synced'),
  });
  deps.onAdmin?.(admin);
  log.info({ adminPort: admin.port, apiserver: config.apiserver, timing: config.timing, leaderElect: config.leaderElect }, 'controller-manager started');

  const lead = async (leaderSignal: AbortSignal): Promise<void> => {
    // Every informer watch and queue timer listens on this signal.
    setMaxListeners(0, leaderSignal);
    leading = true;
    deps.onLeading?.(true);
    informers = new SharedInformers(client, log, clock);
    const recorder = new EventRecorder(client, { component: 'controller-manager', host: config.identity }, log);
    const ctx: ControllerContext = { client, informers, recorder, log, clock, config, metrics: new MetricsStore(), registry };
    const runners: { ctl: Controller; runner: ControllerRunner }[] = [];
    for (const name of config.controllers) {
      const ctl = FACTORIES[name](ctx);
      const primary = ctl.primary;
      const reconciler: Reconciler = {
        name: ctl.name,
        reconcile: (key, s) => ctl.reconcile(key, s),
        ...(primary ? { objectFor: (key: string) => ctx.informers.get(primary).get(key) } : {}),
      };
      const runner = new ControllerRunner(reconciler, { workers: ctl.workers ?? config.workers, logger: log, registry, clock, liveness, recorder });
      ctl.register({ add: (k) => runner.enqueue(k), addAfter: (k, ms) => runner.queue.addAfter(k, ms) });
      runners.push({ ctl, runner });
    }
    informers.start(leaderSignal);
    try {
      await informers.waitForSync(leaderSignal);
    } catch {
      return;
    }
    log.info({ controllers: [...config.controllers] }, 'caches synced; running controllers');
    // The timing the node controllers use, for tools that explain the waits (the dashboard's countdowns).
    publishTiming(
      client,
      {
        preset: config.timing,
        nodeMonitorGracePeriodMs: config.nodeMonitorGracePeriodMs,
        nodeMonitorPeriodMs: config.nodeMonitorPeriodMs,
        nodeStartupGracePeriodMs: config.nodeStartupGracePeriodMs,
        nodeEvictionRate: config.nodeEvictionRate,
        forceDeleteLostPods: config.forceDeleteLostPods,
        publishedBy: config.identity,
      },
      leaderSignal,
    ).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'timing ConfigMap not published'));
    for (const { ctl } of runners) {
      await ctl.afterSync?.(leaderSignal).catch((err: unknown) => log.warn({ controller: ctl.name, err: (err as Error).message }, 'startup work failed'));
    }
    await Promise.all(runners.map(({ runner }) => runner.run(leaderSignal)));
    await informers.stopped();
    leading = false;
    deps.onLeading?.(false);
  };

  try {
    if (!config.leaderElect) {
      await lead(signal);
    } else {
      const elector = new LeaderElector(
        electionClient,
        { namespace: 'kube-system', name: 'kube-controller-manager', identity: config.identity, ...config.leaderElection },
        log,
        clock,
      );
      // Kubernetes components exit when they lose the lease; in-process we campaign again instead.
      while (!signal.aborted) {
        await elector.run(signal, lead);
        if (!signal.aborted) log.warn({}, 'leadership lost; campaigning again');
      }
    }
  } finally {
    await admin.close();
    client.close();
    electionClient.close();
    log.info({}, 'controller-manager stopped');
  }
}
