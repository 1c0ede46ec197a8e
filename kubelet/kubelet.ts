/**
 * The kubelet's pod side, split as Kubernetes splits it: the desired pods (API pods bound here, and
 * static pods), pod workers (`workers.ts`) that sync one pod at a time with its latest desired state, a
 * sync that decides in `computePodActions` (`actions.ts`) and acts in the executor (`executor.ts`), a
 * status manager (`statusmanager.ts`), a volume manager (`volumemanager.ts`), and a PLEG relist that turns
 * runtime changes into syncs. One injected clock runs all of it.
 */
import type { Logger } from 'pino';
import type { ApiClient } from '../client/api.js';
import { realClock, type Clock } from '../component-base/clock.js';
import { isConflict, isNotFound } from '../api/errors.js';
import type { EventRecorder } from '../client/events.js';
import type { core } from '../api/types.js';
import { qosClass } from '../api/poddefaults.js';
import { computePodActions, groupByName, type PodActions, type PodActionsContext } from './actions.js';
import type { KubeletConfig } from './config.js';
import { PodExecutor, type ServiceSource, type SyncOutcome } from './executor.js';
import { generateEvents, PlegRecord, preferNewer, snapshot } from './pleg.js';
import { generatePodStatus } from './podstatus.js';
import { isMirrorPod, isStaticPod, isTerminalPhase, podKey } from './pods.js';
import { ProbeManager } from './probes.js';
import { SANDBOX, type Runtime, type RuntimeContainer } from './runtime/types.js';
import { activeDeadlineLeftMs, statusChanged } from './status.js';
import { StatusManager } from './statusmanager.js';
import { Timeline } from './timeline.js';
import { VolumeManager } from './volumemanager.js';
import { PodWorkers } from './workers.js';

export { CONFIG_HASH_ANNOTATION, CONFIG_SOURCE_ANNOTATION, MIRROR_ANNOTATION, isMirrorPod, isStaticPod, podDns } from './pods.js';
export type { ServiceSource } from './executor.js';

export interface KubeletOptions {
  client: ApiClient;
  runtime: Runtime;
  config: KubeletConfig;
  log: Logger;
  recorder?: EventRecorder;
  /** Services for the containers' Service environment variables; without it containers get none. */
  services?: ServiceSource;
  /** All of the kubelet's time: back-offs, deadlines, requeues, probes, status times (default: the wall clock). */
  clock?: Clock;
}

/** Orphan pod volumes are looked for every this many relists. */
const VOLUME_CLEANUP_EVERY_RELISTS = 30;

/** The PLEG counts as unhealthy when its last relist is older than this (or ten relist periods). */
const PLEG_HEALTHY_MS = 3 * 60_000;

export class Kubelet {
  /** Desired pods by UID (API pods bound here, and static pods). */
  private readonly pods = new Map<string, core.Pod>();
  private readonly workers: PodWorkers;
  private readonly status: StatusManager;
  private readonly volumes: VolumeManager;
  private readonly executor: PodExecutor;
  readonly probes: ProbeManager;
  private readonly last = new PlegRecord();
  /** When a pod worker last listed its pod (performance.now()), to tell its view from an older relist's. */
  private readonly observed = new Map<string, number>();
  private lastRelist: number;
  private sourcesReady = false;
  private stopped = false;
  private readonly log: Logger;
  private readonly cfg: KubeletConfig;
  private readonly clock: Clock;

  constructor(private readonly o: KubeletOptions) {
    this.cfg = o.config;
    this.log = o.log;
    this.clock = o.clock ?? realClock;
    this.lastRelist = this.clock.now();
    this.probes = new ProbeManager(o.runtime, (uid) => this.enqueue(uid), o.log, this.clock);
    this.status = new StatusManager(o.client);
    this.volumes = new VolumeManager({ client: o.client, runtime: o.runtime, config: o.config, log: o.log, clock: this.clock });
    this.executor = new PodExecutor({ ...o, clock: this.clock, volumes: this.volumes, probes: this.probes, stopped: () => this.stopped });
    this.workers = new PodWorkers({
      clock: this.clock,
      sync: (uid) => this.syncPod(uid),
      onFailure: (uid, err, retryInMs) => this.onSyncFailure(uid, err, retryInMs),
      observedAt: (uid) => this.observed.get(uid),
      isDesired: (uid) => this.pods.has(uid),
    });
    o.runtime.watchChanges?.((uid) => this.enqueue(uid));
  }

  // ------------------------------------------------------------------ desired state

  /** An API pod bound to this node was added or changed. */
  upsert(pod: core.Pod): void {
    if (isMirrorPod(pod)) return;
    const uid = pod.metadata?.uid;
    if (!uid) return;
    const prev = this.pods.get(uid);
    this.pods.set(uid, pod);
    // The echo of this kubelet's own status write changes nothing a sync reads; syncing on it would
    // cost every started pod a second round of Docker calls.
    if (prev && this.status.isEcho(prev, pod)) return;
    if (this.log.isLevelEnabled('debug')) this.log.debug({ podUid: uid, pod: podKey(pod), update: prev !== undefined }, 'pod sync requested by the API');
    this.enqueue(uid);
  }

  /** An API pod left this node (deleted, or no longer bound here). */
  remove(pod: core.Pod): void {
    if (isMirrorPod(pod)) return;
    const uid = pod.metadata?.uid;
    if (!uid || !this.pods.has(uid)) return;
    this.pods.delete(uid);
    this.enqueue(uid);
  }

  /** Replaces the set of static pods (from --static-pod-path). */
  setStaticPods(pods: core.Pod[]): void {
    const want = new Set(pods.map((p) => p.metadata?.uid ?? ''));
    for (const [uid, p] of this.pods) if (isStaticPod(p) && !want.has(uid)) this.remove(p);
    for (const p of pods) {
      const uid = p.metadata?.uid ?? '';
      if (!this.pods.has(uid)) {
        this.pods.set(uid, p);
        this.enqueue(uid);
      }
    }
  }

  /** Records the mirror pod name of a static pod (its status goes there). */
  setMirror(staticUid: string, name: string): void {
    this.status.setMirror(staticUid, name);
    this.enqueue(staticUid);
  }

  /** The desired pod with this namespace/name, if any. */
  lookup(namespace: string, name: string): core.Pod | undefined {
    for (const p of this.pods.values()) if (p.metadata?.namespace === namespace && p.metadata?.name === name) return p;
    return undefined;
  }

  staticPods(): core.Pod[] {
    return [...this.pods.values()].filter(isStaticPod);
  }

  /** Called once the pod source has listed: containers of unknown pods may now be removed. */
  markSourcesReady(): void {
    this.sourcesReady = true;
  }

  podCount(): number {
    return this.pods.size;
  }

  /** True when the PLEG relist is fresh (kubelet's `healthy()`); else the reason. */
  healthy(): true | string {
    const age = this.clock.now() - this.lastRelist;
    return age < Math.max(PLEG_HEALTHY_MS, this.cfg.relistPeriodMs * 10) ? true : `PLEG is not healthy: pleg was last seen active ${Math.round(age / 1000)}s ago`;
  }

  /**
   * Asks for a sync of the pod; the worker of that UID runs it with the latest desired state.
   * `relistAt`: the request comes from a relist that listed the runtime then.
   */
  enqueue(uid: string, relistAt?: number): void {
    if (!this.stopped) this.workers.enqueue(uid, relistAt);
  }

  // ------------------------------------------------------------------ PLEG + housekeeping

  /** One relist: diff against the previous one and sync the pods that changed; clean up orphans. */
  async relist(): Promise<void> {
    const listedAt = performance.now();
    const all = await this.o.runtime.list();
    this.lastRelist = this.clock.now();
    const newer = new Set<string>();
    for (const [uid, t] of this.observed) if (t > listedAt) newer.add(uid);
    const snap = preferNewer(snapshot(all), this.last.snapshot, newer);
    const touched = new Set(generateEvents(this.last.snapshot, snap).map((e) => e.podUid));
    this.last.reset(snap);
    if (touched.size > 0 && this.log.isLevelEnabled('debug')) this.log.debug({ podUids: [...touched] }, 'pod syncs requested by the relist');
    for (const uid of touched) this.enqueue(uid, listedAt);
    if (!this.sourcesReady) return;
    for (const c of all) if (!this.pods.has(c.podUid) && !this.workers.has(c.podUid)) this.enqueue(c.podUid);
  }

  /** Removes volumes of pods that are gone and have no containers left. */
  async cleanupVolumes(): Promise<void> {
    if (!this.sourcesReady) return;
    const live = new Set([...this.last.snapshot.values()].map((c) => c.podUid));
    await this.volumes.cleanup((uid) => this.pods.has(uid) || live.has(uid) || this.workers.has(uid));
  }

  /** Brings projected volumes of running pods up to date with their sources (see VolumeManager.refresh). */
  refreshVolumes(): Promise<void> {
    return this.volumes.refresh(this.pods.values(), (pod) => this.executor.envContext(pod, pod.status?.podIP), () => this.stopped);
  }

  /** Runs the relist loop until the signal aborts. */
  run(signal: AbortSignal): void {
    let n = 0;
    const loop = async (): Promise<void> => {
      while (!signal.aborted) {
        await this.relist()
          .then(() => (++n % VOLUME_CLEANUP_EVERY_RELISTS === 0 ? this.cleanupVolumes() : undefined))
          .then(() => (this.volumes.refreshDue() ? this.refreshVolumes() : undefined))
          .catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'relist failed'));
        await this.clock.sleep(this.cfg.relistPeriodMs, signal).catch(() => undefined);
      }
    };
    void loop();
    signal.addEventListener('abort', () => this.stop(), { once: true });
  }

  /** Stops workers and probes; containers keep running (a restarted kubelet adopts them). */
  stop(): void {
    this.stopped = true;
    this.workers.stop();
    this.probes.stopAll();
  }

  /** Resolves once no worker is busy (tests, shutdown). */
  idle(timeoutMs = 10_000): Promise<void> {
    return this.workers.idle(timeoutMs);
  }

  // ------------------------------------------------------------------ sync

  private onSyncFailure(uid: string, err: unknown, retryInMs: number): void {
    const pod = this.pods.get(uid);
    const message = err instanceof Error ? err.message : String(err);
    this.log.warn({ pod: pod ? podKey(pod) : undefined, podUid: uid, err: message, retryInMs }, 'pod sync failed; will retry');
    if (pod) this.o.recorder?.event(pod, 'Warning', 'FailedSync', `error syncing pod, skipping: ${message}`);
  }

  private async syncPod(uid: string): Promise<void> {
    const tl = new Timeline(this.log.isLevelEnabled('debug'));
    const cs = await this.o.runtime.list(uid);
    tl.mark('listed');
    // Read the desired pod and the source state together, after the await: the informer may have
    // delivered the pod meanwhile.
    const pod = this.pods.get(uid);
    if (this.stopped) throw new Error('kubelet stopped: sync abandoned');
    if (!pod) return this.syncRemoved(uid, cs);
    if (pod.metadata?.deletionTimestamp) return this.syncTerminating(pod, cs);
    const previous = this.status.current(pod);
    const actions = computePodActions(pod, cs, {
      ...this.crashLoop(),
      status: previous,
      probeFailure: (id) => this.probes.state(uid, id)?.failed,
    });
    const outcome = await this.executor.apply(pod, cs, actions, tl);
    if (outcome.resync) this.enqueue(uid);
    await this.finishSync(pod, cs, previous, actions, outcome, tl);
  }

  /** What both the decision (computePodActions) and the report (generatePodStatus) read of the crash-loop back-off, now. */
  private crashLoop(): Pick<PodActionsContext, 'now' | 'crashBackoff' | 'backoffResetMs'> {
    return { now: this.clock.now(), crashBackoff: this.executor.crashBackoff, backoffResetMs: this.cfg.crashLoopBackoffResetMs };
  }

  /** A pod that is no longer desired: its containers and volumes go. */
  private async syncRemoved(uid: string, cs: RuntimeContainer[]): Promise<void> {
    // Until the pod source has listed, an unknown pod may just not have arrived yet (a restarted
    // kubelet relists Docker before its informer syncs): never tear down what we may be about to adopt.
    if (!this.sourcesReady) return;
    await this.executor.teardown(uid, cs, undefined, undefined);
    this.forget(uid);
  }

  /** A pod being deleted: stopped within its grace period, then removed from the API for good. */
  private async syncTerminating(pod: core.Pod, cs: RuntimeContainer[]): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    const grace = (pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
    await this.executor.teardown(uid, cs, pod, grace);
    if (!isStaticPod(pod)) {
      try {
        await this.o.client.delete('pods', pod.metadata?.name ?? '', { namespace: pod.metadata?.namespace, gracePeriodSeconds: 0, preconditions: { uid } });
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
    }
    this.log.info({ pod: podKey(pod) }, 'pod terminated and removed');
  }

  /** Lists the pod again, reports its status when it changed, removes old containers, schedules the next sync. */
  private async finishSync(pod: core.Pod, cs: RuntimeContainer[], previous: core.PodStatus | undefined, actions: PodActions, outcome: SyncOutcome, tl: Timeline): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    const spec = pod.spec ?? { containers: [] };
    const now = await this.relistPod(uid, cs);
    tl.mark('relisted');
    const sb = now.find((c) => c.name === SANDBOX && c.state === 'running') ?? now.find((c) => c.name === SANDBOX);
    const podIp = spec.hostNetwork ? this.cfg.nodeIp : sb?.ip;
    this.syncProbes(pod, now, podIp);
    let requeue = outcome.requeueAfterMs;
    const status = generatePodStatus(pod, now, {
      ...this.crashLoop(),
      previous,
      waiting: outcome.waiting,
      stopping: actions.stopping,
      evicted: actions.evicted,
      probeState: (id) => this.probes.state(uid, id),
      runtimeKind: this.o.runtime.kind,
      podIp,
      hostIp: this.cfg.nodeIp,
      qosClass: qosClass(spec),
    });
    if (!isTerminalPhase(status.phase)) {
      // Come back when the deadline passes (the requeue timer, not a poll).
      const left = activeDeadlineLeftMs(spec, status.startTime, this.clock.now());
      if (left !== undefined) requeue = Math.min(requeue ?? Infinity, Math.max(0, left));
    }
    if (statusChanged(previous, status)) {
      await this.status.write(pod, status);
      tl.mark(`statusWritten:${status.phase ?? ''}`);
    }
    if (isTerminalPhase(status.phase) && !isTerminalPhase(previous?.phase)) this.enqueue(uid);
    await this.executor.gc(now);
    if (requeue !== undefined) this.workers.requeueAfter(uid, requeue);
    if (tl.enabled) this.log.debug({ pod: podKey(pod), ...tl.fields() }, 'pod sync timeline');
  }

  /**
   * The pod's containers after the sync acted, recorded as this worker's view for the relist. A container
   * that stopped or vanished after the sync's first list was not acted on (no restart decided): sync again.
   */
  private async relistPod(uid: string, before: RuntimeContainer[]): Promise<RuntimeContainer[]> {
    const listedAt = performance.now();
    const now = await this.o.runtime.list(uid);
    this.last.setPod(uid, now);
    this.observed.set(uid, listedAt);
    const states = new Map(before.map((c) => [c.id, c.state]));
    if (now.some((c) => c.state !== 'running' && states.get(c.id) !== c.state) || before.some((c) => !now.some((n) => n.id === c.id))) this.enqueue(uid);
    return now;
  }

  /** Probe workers for the running containers (init containers included), stopped for the others. */
  private syncProbes(pod: core.Pod, now: RuntimeContainer[], podIp: string | undefined): void {
    const spec = pod.spec ?? { containers: [] };
    const byName = groupByName(now);
    const running = spec.containers
      .concat(spec.initContainers ?? [])
      .map((c) => ({ spec: c, rc: byName.get(c.name)?.[0] }))
      .filter((x): x is { spec: core.Container; rc: RuntimeContainer } => x.rc?.state === 'running')
      .map((x) => ({ ...x, host: podIp ?? this.cfg.nodeIp }));
    this.probes.sync(pod.metadata?.uid ?? '', running);
  }

  private forget(uid: string): void {
    this.status.forget(uid);
    this.observed.delete(uid);
    this.volumes.forget(uid);
    this.executor.forget(uid);
    this.workers.cancelRequeue(uid);
  }
}
