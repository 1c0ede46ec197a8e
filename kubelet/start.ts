/**
 * Wires one kubelet: runtime, pod lifecycle (workers, PLEG, status and volume managers), logs/exec server, node registration and
 * heartbeats, the pod informer (pods bound to this node) and static pods. `startKubelet` is what main
 * and tests call; hollow nodes call it with a shared client and pod source.
 */
import type { Logger } from 'pino';
import { ApiClient } from '../client/api.js';
import { realClock, type Clock } from '../component-base/clock.js';
import { startAdminServer, newMetricsRegistry, type AdminServer } from '../component-base/admin.js';
import { EventRecorder } from '../client/events.js';
import { Informer } from '../client/informer.js';
import { createLogger } from '../component-base/log.js';
import type { core } from '../api/types.js';
import type { KubeletConfig } from './config.js';
import { Kubelet } from './kubelet.js';
import { NodeAgent } from './node.js';
import { DockerRuntime } from './runtime/docker.js';
import { HollowRuntime } from './runtime/hollow.js';
import type { Runtime } from './runtime/types.js';
import { startKubeletServer, type KubeletServer } from './server.js';
import { buildSummary, dockerUsageReader, hollowUsageReader } from './stats.js';
import { ensureMirrorPod, loadStaticPods, removeOrphanMirrorPods } from './static.js';

export interface KubeletDeps {
  logger?: Logger;
  /** Shared client (hollow nodes); otherwise the kubelet makes and closes its own. */
  client?: ApiClient;
  /**
   * The client of the node's Lease and status (Kubernetes' heartbeat client), on a connection of its own so that a
   * heartbeat never waits behind the pod watch's traffic. Default: `client` when one is given, else the kubelet's own.
   */
  heartbeatClient?: ApiClient;
  runtime?: Runtime;
  /**
   * A shared pod source (hollow nodes): the kubelet does not start its own informer; the caller feeds
   * `kubelet.upsert/remove` and calls `markSourcesReady`.
   */
  externalPodSource?: boolean;
  /** Spread heartbeats of many nodes over this window. */
  heartbeatJitterMs?: number;
  /** Serve logs/exec (default true; hollow nodes skip it). */
  serve?: boolean;
  /** Serve /healthz and /metrics on config.adminPort (default true; hollow nodes skip it). */
  admin?: boolean;
  /** The one clock of the kubelet's pod lifecycle and heartbeats (default: the wall clock). */
  clock?: Clock;
}

export interface RunningKubelet {
  readonly nodeName: string;
  /** The logs/exec port (0 when not serving). */
  readonly port: number;
  /** The pod side: desired pods, pod workers, PLEG relist. */
  readonly kubelet: Kubelet;
  readonly runtime: Runtime;
  readonly node: NodeAgent;
  /** Stops the kubelet; containers keep running (a restarted kubelet adopts them). */
  stop(): Promise<void>;
}

export async function startKubelet(cfg: KubeletConfig, signal: AbortSignal, deps: KubeletDeps = {}): Promise<RunningKubelet> {
  const log = (deps.logger ?? createLogger('kubelet')).child({ node: cfg.nodeName });
  const ownClient = !deps.client;
  const client = deps.client ?? new ApiClient(cfg.apiserver, { tls: cfg.tls, token: cfg.token });
  const ownHeartbeatClient = !deps.heartbeatClient && !deps.client;
  const heartbeatClient = deps.heartbeatClient ?? deps.client ?? new ApiClient(cfg.apiserver, { tls: cfg.tls, token: cfg.token, ownConnection: true });
  const clock = deps.clock ?? realClock;
  const runtime = deps.runtime ?? newRuntime(cfg, clock);
  const ctl = new AbortController();
  const onAbort = (): void => ctl.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  const inner = ctl.signal;
  const recorder = deps.externalPodSource ? undefined : new EventRecorder(client, { component: 'kubelet', host: cfg.nodeName }, log);
  // Services of every namespace, for the containers' Service environment variables (hollow nodes have none).
  const services = deps.externalPodSource ? undefined : new Informer(client, 'services', { logger: log });
  const pm = new Kubelet({ client, runtime, config: cfg, log, recorder, services, clock });
  let server: KubeletServer | undefined;
  if (deps.serve ?? true) {
    server = await startKubeletServer({
      port: cfg.port,
      runtime,
      log,
      nodeIp: cfg.nodeIp,
      tls: cfg.serving,
      lookupPod: (ns, name) => pm.lookup(ns, name),
      summary: summaryFor(cfg.nodeName, runtime, pm),
    });
  }
  let admin: AdminServer | undefined;
  if (deps.admin ?? true) {
    admin = await startAdminServer({ port: cfg.adminPort, registry: newMetricsRegistry('kubelet'), healthy: () => pm.healthy() });
  }
  let runtimeVersion = `${runtime.kind}://kubelab`;
  if (runtime instanceof DockerRuntime) {
    const v = await runtime.docker.version().catch(() => undefined);
    if (v) runtimeVersion = `docker://${v.Version}`;
  }
  const node = new NodeAgent({ client: heartbeatClient, config: cfg, log, kubeletPort: server?.port ?? cfg.port, runtimeVersion, healthy: () => pm.healthy(), clock });

  // Static pods run before (and without) the apiserver.
  if (cfg.staticPodPath) pm.setStaticPods(await loadStaticPods(cfg.staticPodPath, cfg.nodeName, log));

  const registered = await registerNode(node, inner, log, clock);
  node.run(inner, deps.heartbeatJitterMs ?? 0);

  services?.start(inner);
  const informer = deps.externalPodSource ? undefined : watchBoundPods(client, cfg.nodeName, pm, log, inner);
  pm.run(inner);

  if (cfg.staticPodPath) void syncStaticPods({ client, cfg, kubelet: pm, log, clock, registered }, inner);

  log.info({ port: server?.port, runtime: runtime.kind, cluster: cfg.clusterName }, 'kubelet started');
  // One shutdown, awaited by every caller: a second stop() (the caller's, after its signal aborted and
  // started the first) must not return before in-flight pod syncs finish, or a sync creates a container
  // after the caller swept them.
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= shutdown());
  const shutdown = async (): Promise<void> => {
    signal.removeEventListener('abort', onAbort);
    ctl.abort(new Error('kubelet stopped'));
    await informer?.stopped();
    await services?.stopped();
    await pm.idle(5_000);
    await server?.close();
    await admin?.close();
    if (ownClient) client.close();
    if (ownHeartbeatClient) heartbeatClient.close();
    if (!deps.runtime) await runtime.close();
  };
  signal.addEventListener('abort', () => void stop(), { once: true });
  return { nodeName: cfg.nodeName, port: server?.port ?? 0, kubelet: pm, runtime, node, stop };
}

function newRuntime(cfg: KubeletConfig, clock: Clock): Runtime {
  if (cfg.runtime === 'hollow') return new HollowRuntime({ startDelayMs: cfg.hollowStartDelayMs, clock });
  return new DockerRuntime({
    clusterName: cfg.clusterName,
    nodeName: cfg.nodeName,
    podNetwork: cfg.podNetwork,
    nodeContainer: cfg.nodeContainer,
    nodeIp: cfg.nodeIp,
    serviceCidr: cfg.serviceCidr,
    pauseImage: cfg.pauseImage,
    clock,
  });
}

/** Registers the Node, retrying until it succeeds or the signal aborts (then undefined). */
async function registerNode(node: NodeAgent, signal: AbortSignal, log: Logger, clock: Clock): Promise<core.Node | undefined> {
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      return await node.register();
    } catch (err) {
      if (attempt % 5 === 0) log.warn({ err: (err as Error).message }, 'node registration failed; retrying');
      await clock.sleep(Math.min(2000, 200 * (attempt + 1)), signal).catch(() => undefined);
    }
  }
  return undefined;
}

/** The pods bound to this node, fed to the kubelet; sources are ready once the first list is in. */
function watchBoundPods(client: ApiClient, nodeName: string, kubelet: Kubelet, log: Logger, signal: AbortSignal): Informer<'pods'> {
  const informer = new Informer(client, 'pods', { fieldSelector: `spec.nodeName=${nodeName}`, logger: log });
  informer.addHandler({
    onAdd: (p) => kubelet.upsert(p),
    onUpdate: (_o, p) => kubelet.upsert(p),
    onDelete: (p) => kubelet.remove(p),
  });
  informer.start(signal);
  void informer.waitForSync(signal).then(
    () => kubelet.markSourcesReady(),
    () => undefined,
  );
  return informer;
}

interface StaticPodSync {
  client: ApiClient;
  cfg: KubeletConfig;
  kubelet: Kubelet;
  log: Logger;
  clock: Clock;
  /** The registered Node (mirror pods are owned by it); undefined when registration was cut short. */
  registered: core.Node | undefined;
}

/** Every fileCheckFrequency: reloads the static pod manifests and keeps their mirror pods in the API. */
async function syncStaticPods(o: StaticPodSync, signal: AbortSignal): Promise<void> {
  /** Static pod uid → API uid of its mirror pod. */
  const mirrors = new Map<string, string>();
  while (!signal.aborted) {
    await syncStaticPodsOnce(o, mirrors).catch((err: unknown) => o.log.warn({ err: (err as Error).message }, 'static pod sync failed'));
    await o.clock.sleep(o.cfg.fileCheckFrequencyMs, signal).catch(() => undefined);
  }
}

async function syncStaticPodsOnce({ client, cfg, kubelet, log, registered }: StaticPodSync, mirrors: Map<string, string>): Promise<void> {
  kubelet.setStaticPods(await loadStaticPods(cfg.staticPodPath, cfg.nodeName, log));
  for (const p of kubelet.staticPods()) {
    const uid = p.metadata?.uid ?? '';
    const mirror = await ensureMirrorPod(client, p, registered).catch((err: unknown) => {
      log.debug({ err: (err as Error).message }, 'mirror pod not written');
      return undefined;
    });
    // A new mirror uid (first mirror, or recreated after a delete) needs the pod's status again.
    if (mirror && mirrors.get(uid) !== mirror.uid) {
      mirrors.set(uid, mirror.uid);
      kubelet.setMirror(uid, mirror.name);
    }
  }
  // Mirrors of static pods whose manifest was removed or changed leave the API too.
  const live = kubelet.staticPods();
  const liveUids = new Set(live.map((p) => p.metadata?.uid ?? ''));
  for (const uid of mirrors.keys()) if (!liveUids.has(uid)) mirrors.delete(uid);
  const removed = await removeOrphanMirrorPods(client, cfg.nodeName, live).catch((err: unknown) => {
    log.debug({ err: (err as Error).message }, 'orphan mirror pods not removed');
    return [];
  });
  if (removed.length > 0) log.info({ pods: removed }, 'mirror pods of removed static pods deleted');
}

/** The `/stats/summary` source for a runtime: cgroup/Docker readings, or a hollow pod's annotations. */
function summaryFor(nodeName: string, runtime: Runtime, pm: Pick<Kubelet, 'lookup'>): () => Promise<unknown> {
  const read = runtime instanceof DockerRuntime ? dockerUsageReader(runtime.docker) : hollowUsageReader();
  return () => buildSummary({ nodeName, runtime, read, lookupPod: (ns, name) => pm.lookup(ns, name) });
}
