/**
 * Wires one kubelet: runtime, pod lifecycle (workers, PLEG, status and volume managers), logs/exec server, node registration and
 * heartbeats, the pod informer (pods bound to this node) and static pods. `startKubelet` is what main
 * and tests call; hollow nodes call it with a shared client and pod source.
 */
import type { Logger } from 'pino';
import { ApiClient } from '../client/api.js';
import { startAdminServer, newMetricsRegistry, type AdminServer } from '../client/admin.js';
import { EventRecorder } from '../client/events.js';
import { Informer } from '../client/informer.js';
import { createLogger } from '../client/log.js';
import type { core } from '../client/types.js';
import type { KubeletConfig } from './config.js';
import { Kubelet } from './kubelet.js';
import { NodeAgent } from './node.js';
import { DockerRuntime } from './runtime/docker.js';
import { HollowRuntime } from './runtime/hollow.js';
import type { Runtime } from './runtime/types.js';
import { startKubeletServer, type KubeletServer } from './server.js';
import { ensureMirrorPod, loadStaticPods, removeOrphanMirrorPods } from './static.js';

export interface KubeletDeps {
  log?: Logger;
  /** Shared client (hollow nodes); otherwise the kubelet makes and closes its own. */
  client?: ApiClient;
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
  const log = (deps.log ?? createLogger('kubelet')).child({ node: cfg.nodeName });
  const ownClient = !deps.client;
  const client = deps.client ?? new ApiClient(cfg.apiserver);
  const runtime =
    deps.runtime ??
    (cfg.runtime === 'hollow'
      ? new HollowRuntime({ startDelayMs: cfg.hollowStartDelayMs })
      : new DockerRuntime({
          clusterName: cfg.clusterName,
          nodeName: cfg.nodeName,
          podNetwork: cfg.podNetwork,
          nodeContainer: cfg.nodeContainer,
          nodeIp: cfg.nodeIp,
          serviceCidr: cfg.serviceCidr,
          pauseImage: cfg.pauseImage,
        }));
  const ctl = new AbortController();
  const onAbort = (): void => ctl.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  const inner = ctl.signal;
  const recorder = deps.externalPodSource ? undefined : new EventRecorder(client, { component: 'kubelet', host: cfg.nodeName }, log);
  // Services of every namespace, for the containers' Service environment variables (hollow nodes have none).
  const services = deps.externalPodSource ? undefined : new Informer(client, 'services', { logger: log });
  const pm = new Kubelet({ client, runtime, config: cfg, log, recorder, services });
  let server: KubeletServer | undefined;
  if (deps.serve ?? true) {
    server = await startKubeletServer({
      port: cfg.port,
      runtime,
      log,
      nodeIp: cfg.nodeIp,
      lookupPod: (ns, name) => pm.lookup(ns, name),
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
  const node = new NodeAgent({ client, config: cfg, log, kubeletPort: server?.port ?? cfg.port, runtimeVersion, healthy: () => pm.healthy() });

  // Static pods run before (and without) the apiserver.
  if (cfg.staticPodPath) pm.setStaticPods(await loadStaticPods(cfg.staticPodPath, cfg.nodeName, log));

  let registered: core.Node | undefined;
  for (let attempt = 0; !inner.aborted; attempt++) {
    try {
      registered = await node.register();
      break;
    } catch (err) {
      if (attempt % 5 === 0) log.warn({ err: (err as Error).message }, 'node registration failed; retrying');
      await new Promise((r) => setTimeout(r, Math.min(2000, 200 * (attempt + 1))));
    }
  }
  node.run(inner, deps.heartbeatJitterMs ?? 0);

  services?.start(inner);
  let informer: Informer<'pods'> | undefined;
  if (!deps.externalPodSource) {
    informer = new Informer(client, 'pods', { fieldSelector: `spec.nodeName=${cfg.nodeName}`, logger: log });
    informer.addHandler({
      onAdd: (p) => pm.upsert(p),
      onUpdate: (_o, p) => pm.upsert(p),
      onDelete: (p) => pm.remove(p),
    });
    informer.start(inner);
    void informer.waitForSync(inner).then(
      () => pm.markSourcesReady(),
      () => undefined,
    );
  }
  pm.run(inner);

  let staticTimer: NodeJS.Timeout | undefined;
  if (cfg.staticPodPath) {
    /** Static pod uid → API uid of its mirror pod. */
    const mirrors = new Map<string, string>();
    const tick = async (): Promise<void> => {
      pm.setStaticPods(await loadStaticPods(cfg.staticPodPath, cfg.nodeName, log));
      for (const p of pm.staticPods()) {
        const uid = p.metadata?.uid ?? '';
        const mirror = await ensureMirrorPod(client, p, registered).catch((err: unknown) => {
          log.debug({ err: (err as Error).message }, 'mirror pod not written');
          return undefined;
        });
        // A new mirror uid (first mirror, or recreated after a delete) needs the pod's status again.
        if (mirror && mirrors.get(uid) !== mirror.uid) {
          mirrors.set(uid, mirror.uid);
          pm.setMirror(uid, mirror.name);
        }
      }
      // Mirrors of static pods whose manifest was removed or changed leave the API too.
      const live = pm.staticPods();
      const liveUids = new Set(live.map((p) => p.metadata?.uid ?? ''));
      for (const uid of mirrors.keys()) if (!liveUids.has(uid)) mirrors.delete(uid);
      const removed = await removeOrphanMirrorPods(client, cfg.nodeName, live).catch((err: unknown) => {
        log.debug({ err: (err as Error).message }, 'orphan mirror pods not removed');
        return [];
      });
      if (removed.length > 0) log.info({ pods: removed }, 'mirror pods of removed static pods deleted');
    };
    const loop = (): void => {
      tick()
        .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'static pod sync failed'))
        .finally(() => {
          if (!inner.aborted) staticTimer = setTimeout(loop, cfg.fileCheckFrequencyMs);
        });
    };
    loop();
  }

  log.info({ port: server?.port, runtime: runtime.kind, cluster: cfg.clusterName }, 'kubelet started');
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    signal.removeEventListener('abort', onAbort);
    ctl.abort(new Error('kubelet stopped'));
    clearTimeout(staticTimer);
    await informer?.stopped();
    await services?.stopped();
    await pm.idle(5_000);
    await server?.close();
    await admin?.close();
    if (ownClient) client.close();
    if (!deps.runtime) await runtime.close();
  };
  signal.addEventListener('abort', () => void stop(), { once: true });
  return { nodeName: cfg.nodeName, port: server?.port ?? 0, kubelet: pm, runtime, node, stop };
}
