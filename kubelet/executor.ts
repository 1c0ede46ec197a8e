/**
 * Applies a pod's `PodActions` through the runtime (the acting half of Kubernetes' SyncPod): creates the
 * sandbox, pulls images with back-off, prepares environment and volumes, creates and starts containers
 * and runs their hooks, stops containers gracefully, tears pods down, and removes old containers.
 */
import type { Logger } from 'pino';
import type { ApiClient } from '../client/api.js';
import type { Clock } from '../component-base/clock.js';
import type { EventRecorder } from '../client/events.js';
import type { core } from '../api/types.js';
import type { ContainerToStart, PodActions } from './actions.js';
import { groupByName } from './actions.js';
import { Backoff } from './backoff.js';
import type { KubeletConfig } from './config.js';
import { ObjectFetcher, type EnvContext, resolveEnv, serviceEnv } from './env.js';
import { ContainerStartError, ImagePullError } from './errors.js';
import { podDns, isStaticPod, podKey } from './pods.js';
import { evaluatePod, formatFailures, namespacePolicy, type PodSpecLike } from '../api/podsecurity.js';
import { runHandler, type ProbeManager } from './probes.js';
import { SANDBOX, type Runtime, type RuntimeContainer } from './runtime/types.js';
import type { Waiting } from './status.js';
import type { Timeline } from './timeline.js';
import type { VolumeManager } from './volumemanager.js';
import { containerMounts, sandboxMounts } from './volumes.js';

/** The Services a kubelet sets environment variables from (an informer over all namespaces). */
export interface ServiceSource {
  hasSynced(): boolean;
  /** Resolves once the first list is in (rejects when the signal aborts). */
  waitForSync(signal?: AbortSignal): Promise<void>;
  byNamespace(namespace: string): core.Service[];
}

/** How long a container start waits for the Service informer's first list before it gives up (and retries). */
const SERVICES_SYNC_WAIT_MS = 10_000;

/** How long a postStart hook may run. */
const POST_START_TIMEOUT_MS = 30_000;

/** Kubernetes gives a container at least this long after a preStop hook that used up the grace period. */
const MIN_GRACE_AFTER_PRE_STOP_MS = 2000;

/** Running containers of a dead sandbox are stopped with this grace before a new sandbox starts. */
const STALE_CONTAINER_GRACE_MS = 2000;

export interface PodExecutorOptions {
  client: ApiClient;
  runtime: Runtime;
  config: KubeletConfig;
  log: Logger;
  clock: Clock;
  recorder?: EventRecorder;
  /** Services for the containers' Service environment variables; without it containers get none. */
  services?: ServiceSource;
  volumes: VolumeManager;
  probes: ProbeManager;
  /** True once the kubelet stopped: a sync still in flight must not touch the runtime any more. */
  stopped(): boolean;
}

/** What applying the actions left to report: waiting states, when to come back, whether to sync again now. */
export interface SyncOutcome {
  waiting: Map<string, Waiting>;
  requeueAfterMs?: number;
  /** A container was stopped for a failed probe: the next sync restarts it. */
  resync: boolean;
}

export class PodExecutor {
  /** Crash-loop back-off per `uid/container` (computePodActions reads it, a restart records it). */
  readonly crashBackoff: Backoff;
  private readonly imageBackoff: Backoff;
  private readonly imageFailures = new Map<string, { at: number; message: string; never: boolean }>();
  private readonly cfg: KubeletConfig;

  constructor(private readonly o: PodExecutorOptions) {
    this.cfg = o.config;
    this.crashBackoff = new Backoff({ initialMs: this.cfg.crashLoopBackoffInitialMs, maxMs: this.cfg.crashLoopBackoffMaxMs, resetMs: this.cfg.crashLoopBackoffResetMs }, o.clock);
    this.imageBackoff = new Backoff({ initialMs: this.cfg.imagePullBackoffInitialMs, maxMs: 300_000, resetMs: 600_000 }, o.clock);
  }

  /** The environment context of a pod's containers and volumes. */
  envContext(pod: core.Pod, podIp: string | undefined): EnvContext {
    return { pod, podIp, hostIp: this.cfg.nodeIp, nodeCpuMillis: this.cfg.cpuMillis, nodeMemoryBytes: this.cfg.memoryBytes };
  }

  /** Applies the actions to the pod whose containers are `cs` (as listed before they were computed). */
  async apply(pod: core.Pod, cs: RuntimeContainer[], a: PodActions, tl: Timeline): Promise<SyncOutcome> {
    const out: SyncOutcome = { waiting: new Map(a.waiting), requeueAfterMs: a.requeueAfterMs, resync: false };
    for (const e of a.events) this.event(pod, e.type, e.reason, e.message);
    this.assertRunning();
    if (a.killPod) {
      if (a.killPod.reason === 'finished') {
        for (const c of cs) if (c.state === 'running') await this.kill(pod, c, 0);
      } else {
        this.o.log.info({ pod: podKey(pod), reason: a.evicted?.reason }, 'pod failed by the kubelet; killing its containers');
        const grace = a.killPod.graceMs;
        await this.killPod(pod.metadata?.uid ?? '', pod, cs, () => grace);
      }
      return out;
    }
    const running = cs.find((c) => c.name === SANDBOX && c.state === 'running');
    const sandbox = running && !a.createSandbox ? running : await this.createSandbox(pod, a.createSandbox?.kill ?? [], a.createSandbox?.attempt ?? 0, tl);
    const podIp = pod.spec?.hostNetwork ? this.cfg.nodeIp : sandbox.ip;
    const started = (name: string, err: { waiting: Waiting; retryMs: number } | undefined): void => {
      tl.mark(`started:${name}`);
      if (!err) return;
      out.waiting.set(name, err.waiting);
      out.requeueAfterMs = Math.min(out.requeueAfterMs ?? Infinity, err.retryMs);
    };
    const start = async (s: ContainerToStart): Promise<void> => {
      this.assertRunning();
      if (s.backoff) {
        if (s.backoff.reset) this.crashBackoff.reset(s.backoff.key);
        this.crashBackoff.next(s.backoff.key);
      }
      started(s.container.name, await this.startContainer(pod, s.container, sandbox, s.attempt, podIp, tl));
    };
    if (a.nextInitContainer) await start(a.nextInitContainer);
    for (const k of a.containersToKill) {
      this.assertRunning();
      await this.kill(pod, k.container, k.graceMs, k.spec);
      out.resync = true;
    }
    for (const rc of a.containersToResume) {
      this.assertRunning();
      await this.o.runtime.startContainer(rc.id).catch(() => undefined);
    }
    for (const s of a.containersToStart) await start(s);
    for (const ec of a.ephemeralToStart) {
      this.assertRunning();
      started(ec.container.name, await this.startContainer(pod, ec.container as core.Container, sandbox, 0, podIp, tl, ec.targetId));
    }
    return out;
  }

  /** Stops what still runs in the old sandbox (`stale`), then runs a new one. */
  private async createSandbox(pod: core.Pod, stale: RuntimeContainer[], attempt: number, tl: Timeline): Promise<RuntimeContainer> {
    for (const c of stale) await this.kill(pod, c, STALE_CONTAINER_GRACE_MS);
    const spec = pod.spec ?? { containers: [] };
    try {
      tl.mark('killedStale');
      const mounts = await sandboxMounts(pod, { clusterName: this.cfg.clusterName, nodeName: this.cfg.nodeName, runtime: this.o.runtime, nodeMemoryBytes: this.cfg.memoryBytes });
      const sandbox = await this.o.runtime.runSandbox({
        pod,
        attempt,
        mounts,
        hostname: spec.hostname ?? pod.metadata?.name ?? 'pod',
        dns: podDns(pod, this.cfg.clusterDns, this.cfg.clusterDomain),
        extraHosts: (spec.hostAliases ?? []).flatMap((a) => (a.hostnames ?? []).map((h) => `${h}:${a.ip}`)),
      });
      tl.mark('sandboxRunning');
      return sandbox;
    } catch (err) {
      this.event(pod, 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${(err as Error).message}`);
      throw err;
    }
  }

  /** Pulls, creates and starts one container (and runs postStart). Returns why it could not, if so. */
  private async startContainer(
    pod: core.Pod,
    c: core.Container,
    sandbox: RuntimeContainer,
    attempt: number,
    podIp: string | undefined,
    tl: Timeline,
    pidTargetId?: string,
  ): Promise<{ waiting: Waiting; retryMs: number } | undefined> {
    const rt = this.o.runtime;
    const pulled = await this.pullImage(pod, c, tl);
    if (pulled) return pulled;
    let id: string;
    try {
      if (this.cfg.enforcePodSecurity) await this.checkPodSecurity(pod);
      const ctx = this.envContext(pod, podIp);
      const fetch = new ObjectFetcher(this.o.client, pod.metadata?.namespace ?? 'default');
      const env = await resolveEnv(c, ctx, fetch, await this.serviceEnv(pod));
      const vols = await this.o.volumes.podVolumes(pod, this.o.volumes.context(pod, ctx, fetch));
      const mounts = await containerMounts(pod, c, vols, rt, ctx);
      tl.mark(`prepared:${c.name}`);
      id = await rt.createContainer({ pod, container: c, sandboxId: sandbox.id, attempt, env, mounts, ...(pidTargetId ? { pidTargetId } : {}) });
      tl.mark(`created:${c.name}`);
      await rt.startContainer(id);
    } catch (err) {
      if (!(err instanceof ContainerStartError)) throw err;
      this.event(pod, 'Warning', 'Failed', `Error: ${err.message}`);
      return { waiting: { reason: err.reason, message: err.message }, retryMs: err.reason === 'CreateContainerConfigError' ? 2000 : 5000 };
    }
    this.event(pod, 'Normal', 'Started', `Started container ${c.name}`);
    const hook = c.lifecycle?.postStart;
    if (hook) {
      const r = await runHandler(hook, { runtime: rt, containerId: id, container: c, host: podIp ?? this.cfg.nodeIp }, POST_START_TIMEOUT_MS);
      if (!r.ok) {
        this.event(pod, 'Warning', 'FailedPostStartHook', r.message);
        await rt.stopContainer(id, 0);
      }
    }
    return undefined;
  }

  /** Makes the container's image present; while a failed pull backs off, says so instead of pulling. */
  private async pullImage(pod: core.Pod, c: core.Container, tl: Timeline): Promise<{ waiting: Waiting; retryMs: number } | undefined> {
    const key = `${pod.metadata?.uid ?? ''}/${c.name}`;
    const image = c.image ?? '';
    const prevFail = this.imageFailures.get(key);
    if (prevFail && this.imageBackoff.isInBackOffSince(key, prevFail.at)) {
      return {
        waiting: prevFail.never
          ? { reason: 'ErrImageNeverPull', message: prevFail.message }
          : { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}": ${prevFail.message}` },
        retryMs: this.imageBackoff.remaining(key, prevFail.at) + 20,
      };
    }
    try {
      await this.o.runtime.ensureImage(image, (c.imagePullPolicy ?? 'IfNotPresent') as 'Always' | 'IfNotPresent' | 'Never');
      tl.mark(`image:${c.name}`);
      this.imageFailures.delete(key);
      this.imageBackoff.reset(key);
      return undefined;
    } catch (err) {
      if (!(err instanceof ImagePullError)) throw err;
      this.imageBackoff.next(key);
      this.imageFailures.set(key, { at: this.o.clock.now(), message: err.message, never: err.neverPull });
      this.event(pod, 'Warning', 'Failed', `Failed to pull image "${image}": ${err.message}`);
      // Come back soon so the status moves on from ErrImagePull to ImagePullBackOff, as kubectl users expect.
      return { waiting: { reason: err.neverPull ? 'ErrImageNeverPull' : 'ErrImagePull', message: err.message }, retryMs: 1000 };
    }
  }

  /**
   * Defence in depth behind Pod Security admission: a pod the namespace's enforce level forbids (a
   * privileged container, host namespaces, hostPath — root on the Docker host here) is not started, even
   * if it reached the node around admission (written to etcd directly, admission off). Static pods are the
   * node's own and exempt.
   */
  private async checkPodSecurity(pod: core.Pod): Promise<void> {
    if (isStaticPod(pod)) return;
    const nsName = pod.metadata?.namespace ?? 'default';
    const ns = await this.o.client.get('namespaces', nsName);
    const policy = namespacePolicy(ns.metadata?.labels, 'baseline');
    const failed = evaluatePod(policy.enforce.level, (pod.spec ?? {}) as PodSpecLike, pod.metadata ?? {});
    if (failed.length)
      throw new ContainerStartError('CreateContainerConfigError', `pod violates PodSecurity "${policy.enforce.level}:${policy.enforce.version}" of namespace ${nsName}: ${formatFailures(failed)}`);
  }

  /**
   * The Service variables for the pod's containers. Throws ContainerStartError (CreateContainerConfigError)
   * while the Services have not been listed yet, as the kubelet does, rather than start a container without
   * them; static pods take what the cache holds (they must run without the apiserver).
   */
  private async serviceEnv(pod: core.Pod): Promise<Map<string, string>> {
    const src = this.o.services;
    if (!src) return new Map();
    if (!src.hasSynced() && !isStaticPod(pod)) {
      await src.waitForSync(AbortSignal.timeout(SERVICES_SYNC_WAIT_MS)).catch(() => undefined);
      if (!src.hasSynced()) throw new ContainerStartError('CreateContainerConfigError', 'services have not yet been read at least once, cannot construct envvars');
    }
    const ns = pod.metadata?.namespace ?? 'default';
    return serviceEnv(ns, pod.spec?.enableServiceLinks ?? true, src.byNamespace(ns), src.byNamespace('default'));
  }

  /** Stops a pod: its app containers in parallel, each within `graceMs(c)` (preStop hooks run), then its sandbox. */
  async killPod(uid: string, pod: core.Pod | undefined, cs: RuntimeContainer[], graceMs: (c: RuntimeContainer) => number): Promise<void> {
    this.o.probes.removePod(uid);
    await Promise.all(cs.filter((c) => c.name !== SANDBOX && c.state === 'running').map((c) => this.kill(pod, c, graceMs(c))));
    for (const c of cs) if (c.name === SANDBOX && c.state === 'running') await this.o.runtime.stopContainer(c.id, 0);
  }

  /** Stops one container: preStop hook, then SIGTERM, SIGKILL after what is left of the grace period. */
  private async kill(pod: core.Pod | undefined, rc: RuntimeContainer, graceMs: number, spec?: core.Container): Promise<void> {
    const ct = spec ?? pod?.spec?.containers.find((c) => c.name === rc.name) ?? pod?.spec?.initContainers?.find((c) => c.name === rc.name);
    const started = this.o.clock.now();
    const hook = ct?.lifecycle?.preStop;
    if (hook && rc.state === 'running' && ct && graceMs > 0) {
      const sb = (await this.o.runtime.list(rc.podUid)).find((c) => c.name === SANDBOX && c.state === 'running');
      const r = await runHandler(hook, { runtime: this.o.runtime, containerId: rc.id, container: ct, host: sb?.ip ?? this.cfg.nodeIp }, graceMs);
      if (!r.ok && pod) this.event(pod, 'Warning', 'FailedPreStopHook', r.message);
    }
    const left = hook ? Math.max(MIN_GRACE_AFTER_PRE_STOP_MS, graceMs - (this.o.clock.now() - started)) : graceMs;
    await this.o.runtime.stopContainer(rc.id, left);
  }

  /** Stops every container of the pod (app containers in parallel, then the sandbox) and removes them. */
  async teardown(uid: string, cs: RuntimeContainer[], pod: core.Pod | undefined, graceMs: number | undefined): Promise<void> {
    await this.killPod(uid, pod, cs, (c) => graceMs ?? (c.graceSeconds ?? 30) * 1000);
    for (const c of cs) await this.o.runtime.removeContainer(c.id);
    await this.o.runtime.removePodVolumes(uid);
    if (cs.length > 0) this.o.log.info({ podUid: uid, containers: cs.length }, 'pod containers removed');
  }

  /** Keeps the newest two containers per name (current + previous, for logs --previous) and the newest sandbox. */
  async gc(cs: RuntimeContainer[]): Promise<void> {
    for (const [name, list] of groupByName(cs)) {
      const keep = name === SANDBOX ? 1 : 2;
      for (const c of list.slice(keep)) if (c.state !== 'running') await this.o.runtime.removeContainer(c.id);
    }
  }

  /** Drops the back-off state of a pod that is gone. */
  forget(uid: string): void {
    this.crashBackoff.forgetPrefix(`${uid}/`);
    this.imageBackoff.forgetPrefix(`${uid}/`);
    for (const k of this.imageFailures.keys()) if (k.startsWith(`${uid}/`)) this.imageFailures.delete(k);
  }

  private event(pod: core.Pod, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.o.recorder?.event(pod, type, reason, message);
  }

  /**
   * Throws once the kubelet is stopped, so that a sync still in flight after `stop()` changes nothing in
   * the runtime: a restarted kubelet may already be managing the same containers.
   */
  private assertRunning(): void {
    if (this.o.stopped()) throw new Error('kubelet stopped: sync abandoned');
  }
}
