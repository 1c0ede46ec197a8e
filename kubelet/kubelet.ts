/**
 * The kubelet's pod side: one worker per pod UID that keeps only the latest desired state and syncs the
 * runtime towards it (sandbox, init containers in order, app containers, restarts with back-off,
 * probes, graceful termination), a PLEG relist that turns runtime changes into syncs, and status writes
 * through pods/status when something changed.
 */
import type { Logger } from 'pino';
import type { ApiClient } from '../client/api.js';
import { isConflict, isNotFound } from '../client/errors.js';
import type { EventRecorder } from '../client/events.js';
import { clone } from '../client/objects.js';
import type { Mutable, core } from '../client/types.js';
import { qosClass } from '../apiserver/defaults.js';
import { Backoff } from './backoff.js';
import type { KubeletConfig } from './config.js';
import { ObjectFetcher, type EnvContext, resolveEnv, serviceEnv } from './env.js';
import { ContainerStartError, ImagePullError } from './errors.js';
import { generateEvents, preferNewer, snapshot, withPod, type RelistSnapshot } from './pleg.js';
import { ProbeManager, runHandler } from './probes.js';
import { SANDBOX, type DnsSettings, type Runtime, type RuntimeContainer } from './runtime/types.js';
import { activeDeadlineLeftMs, buildPodStatus, containerStatus, DEADLINE_EXCEEDED, ephemeralContainerStatus, isOwnStatusEcho, statusChanged, type Eviction, type Waiting } from './status.js';
import { containerMounts, preparePodVolumes, refreshProjectedVolumes, sandboxMounts } from './volumes.js';

export const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';
export const CONFIG_SOURCE_ANNOTATION = 'kubernetes.io/config.source';
export const CONFIG_HASH_ANNOTATION = 'kubernetes.io/config.hash';

/** The Services a kubelet sets environment variables from (an informer over all namespaces). */
export interface ServiceSource {
  hasSynced(): boolean;
  /** Resolves once the first list is in (rejects when the signal aborts). */
  waitForSync(signal?: AbortSignal): Promise<void>;
  byNamespace(namespace: string): core.Service[];
}

export interface PodManagerOptions {
  client: ApiClient;
  runtime: Runtime;
  config: KubeletConfig;
  log: Logger;
  recorder?: EventRecorder;
  /** Services for the containers' Service environment variables; without it containers get none. */
  services?: ServiceSource;
  /** Time for activeDeadlineSeconds (default: the wall clock). */
  clock?: { now(): number };
}

/** How long a container start waits for the Service informer's first list before it gives up (and retries). */
const SERVICES_SYNC_WAIT_MS = 10_000;

/** A failed pod sync is retried after 1 s, doubling up to a minute (reset by a sync that succeeds). */
const SYNC_RETRY_BASE_MS = 1000;
const SYNC_RETRY_MAX_MS = 60_000;

interface Worker {
  busy: boolean;
  again: boolean;
  /**
   * Set when relists asked for a sync while one ran: the newest such relist's list time. A sync whose
   * own final list started later already saw what that relist saw, so it needs no repeat.
   */
  relistAt?: number;
}

const isTerminalPhase = (p: string | undefined): boolean => p === 'Succeeded' || p === 'Failed';

export function isStaticPod(pod: core.Pod): boolean {
  const src = pod.metadata?.annotations?.[CONFIG_SOURCE_ANNOTATION];
  return src !== undefined && src !== 'api';
}

export function isMirrorPod(pod: core.Pod): boolean {
  return pod.metadata?.annotations?.[MIRROR_ANNOTATION] !== undefined;
}

/** DNS settings of a pod's sandbox (nameserver, search path, ndots) per dnsPolicy. */
export function podDns(pod: core.Pod, clusterDns: string, domain: string): DnsSettings | undefined {
  const spec = pod.spec;
  const policy = spec?.dnsPolicy ?? 'ClusterFirst';
  const extra = spec?.dnsConfig;
  let base: DnsSettings | undefined;
  if ((policy === 'ClusterFirst' && !spec?.hostNetwork) || policy === 'ClusterFirstWithHostNet') {
    if (clusterDns) {
      const ns = pod.metadata?.namespace ?? 'default';
      base = { servers: [clusterDns], searches: [`${ns}.svc.${domain}`, `svc.${domain}`, domain], options: ['ndots:5'] };
    }
  } else if (policy === 'None') base = { servers: [], searches: [], options: [] };
  if (!extra) return base;
  const b = base ?? { servers: [], searches: [], options: [] };
  return {
    servers: [...b.servers, ...(extra.nameservers ?? [])],
    searches: [...b.searches, ...(extra.searches ?? [])],
    options: [
      ...b.options.filter((o) => !(extra.options ?? []).some((e) => o.startsWith(`${e.name}:`) || o === e.name)),
      ...(extra.options ?? []).map((o) => (o.value !== undefined ? `${o.name}:${o.value}` : o.name ?? '')),
    ],
  };
}

export class PodManager {
  /** Desired pods by UID (API pods bound here, and static pods). */
  private readonly pods = new Map<string, core.Pod>();
  private readonly workers = new Map<string, Worker>();
  /** Last status written per UID. */
  private readonly written = new Map<string, core.PodStatus>();
  /** resourceVersion our last status write produced: a stored pod newer than it carries someone else's write. */
  private readonly writtenRv = new Map<string, number>();
  /** Status being written per UID: its watch echo can arrive before the write's own response. */
  private readonly writing = new Map<string, core.PodStatus>();
  private readonly volumes = new Map<string, Map<string, string>>();
  /** Digest of what each projected volume holds, per pod UID and volume name (see refreshVolumes). */
  private readonly volumeDigests = new Map<string, Map<string, string>>();
  private lastVolumeSync = Date.now();
  private readonly requeues = new Map<string, NodeJS.Timeout>();
  /** Consecutive failed syncs per UID, for the retry backoff. */
  private readonly syncFailures = new Map<string, number>();
  private readonly imageFailures = new Map<string, { at: number; message: string; never: boolean }>();
  private readonly crashBackoff: Backoff;
  private readonly imageBackoff: Backoff;
  readonly probes: ProbeManager;
  private last: RelistSnapshot = new Map();
  /** When a pod worker last listed its pod (performance.now()), to tell its view from an older relist's. */
  private readonly observed = new Map<string, number>();
  private lastRelist = Date.now();
  private sourcesReady = false;
  private stopped = false;
  private readonly log: Logger;
  private readonly cfg: KubeletConfig;
  /** Mirror pod names of static pods, by static UID. */
  private readonly mirrors = new Map<string, string>();
  private readonly now: () => number;

  constructor(private readonly o: PodManagerOptions) {
    this.cfg = o.config;
    this.log = o.log;
    const injected = o.clock;
    this.now = injected ? () => injected.now() : () => Date.now();
    const clock = { now: () => Date.now(), sleep: () => Promise.resolve() };
    this.crashBackoff = new Backoff({ initialMs: this.cfg.crashLoopBackoffInitialMs, maxMs: this.cfg.crashLoopBackoffMaxMs, resetMs: this.cfg.crashLoopBackoffResetMs }, clock);
    this.imageBackoff = new Backoff({ initialMs: this.cfg.imagePullBackoffInitialMs, maxMs: 300_000, resetMs: 600_000 }, clock);
    this.probes = new ProbeManager(o.runtime, (uid) => this.enqueue(uid), o.log);
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
    if (prev && (isOwnStatusEcho(prev, pod, this.written.get(uid)) || isOwnStatusEcho(prev, pod, this.writing.get(uid)))) return;
    if (this.log.isLevelEnabled('debug')) this.log.debug({ podUid: uid, pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, update: prev !== undefined }, 'pod sync requested by the API');
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
      const cur = this.pods.get(uid);
      if (!cur) {
        this.pods.set(uid, p);
        this.enqueue(uid);
      }
    }
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
    const age = Date.now() - this.lastRelist;
    return age < Math.max(3 * 60_000, this.cfg.relistPeriodMs * 10) ? true : `PLEG is not healthy: pleg was last seen active ${Math.round(age / 1000)}s ago`;
  }

  // ------------------------------------------------------------------ workers

  /**
   * Asks for a sync of the pod; the worker of that UID runs it with the latest desired state.
   * `relistAt`: the request comes from a relist that listed the runtime then (see Worker.relistAt).
   */
  enqueue(uid: string, relistAt?: number): void {
    if (this.stopped) return;
    let w = this.workers.get(uid);
    if (!w) this.workers.set(uid, (w = { busy: false, again: false }));
    if (w.busy) {
      if (relistAt === undefined) w.again = true;
      else w.relistAt = Math.max(w.relistAt ?? relistAt, relistAt);
      return;
    }
    w.busy = true;
    void this.work(uid, w);
  }

  private requeueAfter(uid: string, ms: number): void {
    const t = this.requeues.get(uid);
    if (t) clearTimeout(t);
    this.requeues.set(
      uid,
      setTimeout(() => {
        this.requeues.delete(uid);
        this.enqueue(uid);
      }, Math.max(50, ms)),
    );
  }

  private async work(uid: string, w: Worker): Promise<void> {
    do {
      w.again = false;
      w.relistAt = undefined;
      try {
        await this.syncPod(uid);
        this.syncFailures.delete(uid);
      } catch (err) {
        if (this.stopped) break;
        // One pod's failure (a malformed spec, a runtime error) costs that pod only: retried with backoff.
        const n = this.syncFailures.get(uid) ?? 0;
        this.syncFailures.set(uid, n + 1);
        const delay = Math.min(SYNC_RETRY_BASE_MS * 2 ** n, SYNC_RETRY_MAX_MS);
        const pod = this.pods.get(uid);
        const message = err instanceof Error ? err.message : String(err);
        const key = pod ? `${pod.metadata?.namespace}/${pod.metadata?.name}` : undefined;
        this.log.warn({ pod: key, podUid: uid, err: message, retryInMs: delay }, 'pod sync failed; will retry');
        if (pod) this.o.recorder?.event(pod as never, 'Warning', 'FailedSync', `error syncing pod, skipping: ${message}`);
        this.requeueAfter(uid, delay);
      }
      if (w.relistAt !== undefined && !((this.observed.get(uid) ?? -Infinity) > w.relistAt)) w.again = true;
    } while (w.again && !this.stopped);
    w.relistAt = undefined;
    w.busy = false;
    if (!this.pods.has(uid) && !w.again) {
      this.workers.delete(uid);
      this.syncFailures.delete(uid);
    }
  }

  // ------------------------------------------------------------------ PLEG + housekeeping

  /** One relist: diff against the previous one and sync the pods that changed; clean up orphans. */
  async relist(): Promise<void> {
    const listedAt = performance.now();
    const all = await this.o.runtime.list();
    this.lastRelist = Date.now();
    const newer = new Set<string>();
    for (const [uid, t] of this.observed) if (t > listedAt) newer.add(uid);
    const snap = preferNewer(snapshot(all), this.last, newer);
    const touched = new Set(generateEvents(this.last, snap).map((e) => e.podUid));
    this.last = snap;
    if (touched.size > 0 && this.log.isLevelEnabled('debug')) this.log.debug({ podUids: [...touched] }, 'pod syncs requested by the relist');
    for (const uid of touched) this.enqueue(uid, listedAt);
    if (!this.sourcesReady) return;
    for (const c of all) if (!this.pods.has(c.podUid) && !this.workers.has(c.podUid)) this.enqueue(c.podUid);
  }

  /** Removes volumes of pods that are gone and have no containers left. */
  async cleanupVolumes(): Promise<void> {
    if (!this.sourcesReady) return;
    const live = new Set([...this.last.values()].map((c) => c.podUid));
    for (const uid of await this.o.runtime.podVolumeUids()) {
      if (!this.pods.has(uid) && !live.has(uid) && !this.workers.has(uid)) await this.o.runtime.removePodVolumes(uid);
    }
  }

  /**
   * Brings the configMap/secret/downwardAPI/projected volumes of running pods up to date with their
   * sources, as the kubelet's periodic sync does (subPath mounts keep what they had, as in Kubernetes).
   */
  async refreshVolumes(): Promise<void> {
    this.lastVolumeSync = Date.now();
    for (const [uid, pod] of this.pods) {
      if (this.stopped) return;
      // Running pods only (their volumes exist; after a kubelet restart, adopted pods too).
      if (pod.metadata?.deletionTimestamp || pod.status?.phase !== 'Running' || !pod.spec?.volumes?.length) continue;
      let digests = this.volumeDigests.get(uid);
      if (!digests) this.volumeDigests.set(uid, (digests = new Map()));
      const fetch = new ObjectFetcher(this.o.client, pod.metadata?.namespace ?? 'default');
      const ctx = { clusterName: this.cfg.clusterName, nodeName: this.cfg.nodeName, client: this.o.client, runtime: this.o.runtime, fetch, env: this.envContext(pod, pod.status?.podIP) };
      try {
        const updated = await refreshProjectedVolumes(pod, ctx, digests, new Date(this.now()));
        if (updated.length) this.log.info({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, volumes: updated }, 'volume contents updated');
      } catch (err) {
        this.log.warn({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, err: (err as Error).message }, 'volume update failed');
      }
    }
  }

  /** Runs the relist loop until the signal aborts. */
  run(signal: AbortSignal): void {
    let timer: NodeJS.Timeout | undefined;
    let n = 0;
    const tick = (): void => {
      if (signal.aborted) return;
      this.relist()
        .then(() => (++n % 30 === 0 ? this.cleanupVolumes() : undefined))
        .then(() => (Date.now() - this.lastVolumeSync >= this.cfg.volumeSyncPeriodMs ? this.refreshVolumes() : undefined))
        .catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'relist failed'))
        .finally(() => {
          if (!signal.aborted) timer = setTimeout(tick, this.cfg.relistPeriodMs);
        });
    };
    tick();
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        this.stop();
      },
      { once: true },
    );
  }

  /**
   * Throws once the kubelet is stopped, so that a sync still in flight after `stop()` changes nothing in
   * Docker: a restarted kubelet may already be managing the same containers.
   */
  private assertRunning(): void {
    if (this.stopped) throw new Error('kubelet stopped: sync abandoned');
  }

  /** Stops workers and probes; containers keep running (a restarted kubelet adopts them). */
  stop(): void {
    this.stopped = true;
    for (const t of this.requeues.values()) clearTimeout(t);
    this.requeues.clear();
    this.probes.stopAll();
  }

  /** Resolves once no worker is busy (tests, shutdown). */
  async idle(timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while ([...this.workers.values()].some((w) => w.busy) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  }

  // ------------------------------------------------------------------ sync

  private envContext(pod: core.Pod, podIp: string | undefined): EnvContext {
    return { pod, podIp, hostIp: this.cfg.nodeIp, nodeCpuMillis: this.cfg.cpuMillis, nodeMemoryBytes: this.cfg.memoryBytes };
  }

  private async syncPod(uid: string): Promise<void> {
    const rt = this.o.runtime;
    const tl = new Timeline(this.log.isLevelEnabled('debug'));
    const cs = await rt.list(uid);
    tl.mark('listed');
    // Read the desired pod and the source state together, after the await: the informer may have
    // delivered the pod meanwhile.
    const pod = this.pods.get(uid);
    this.assertRunning();
    if (!pod) {
      // Until the pod source has listed, an unknown pod may just not have arrived yet (a restarted
      // kubelet relists Docker before its informer syncs): never tear down what we may be about to adopt.
      if (!this.sourcesReady) return;
      await this.teardown(uid, cs, undefined, undefined);
      this.forget(uid);
      return;
    }
    if (pod.metadata?.deletionTimestamp) {
      const grace = (pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
      await this.teardown(uid, cs, pod, grace);
      if (!isStaticPod(pod)) {
        try {
          await this.o.client.delete('pods', pod.metadata.name ?? '', { namespace: pod.metadata.namespace, gracePeriodSeconds: 0, preconditions: { uid } });
        } catch (err) {
          if (!isNotFound(err) && !isConflict(err)) throw err;
        }
      }
      this.log.info({ pod: `${pod.metadata.namespace}/${pod.metadata.name}` }, 'pod terminated and removed');
      return;
    }
    const spec = pod.spec ?? { containers: [] };
    const waiting = new Map<string, Waiting>();
    let requeue: number | undefined;
    const wantRequeue = (ms: number): void => {
      requeue = requeue === undefined ? ms : Math.min(requeue, ms);
    };
    // Our last write is the reference, unless the stored pod is newer and its status differs: then someone
    // else (the node lifecycle controller marking pods not ready while we were cut off) wrote it, and we
    // must write ours again.
    const ownWrite = this.written.get(uid);
    const foreign = ownWrite !== undefined && Number(pod.metadata?.resourceVersion ?? 0) > (this.writtenRv.get(uid) ?? Infinity) && statusChanged(ownWrite, pod.status ?? {});
    const prevStatus = foreign ? pod.status : (ownWrite ?? pod.status);
    const terminal = isTerminalPhase(prevStatus?.phase);
    // Past activeDeadlineSeconds: the pod fails now (kubelet's activeDeadlineHandler).
    const deadlineLeft = terminal ? undefined : activeDeadlineLeftMs(spec, prevStatus?.startTime, this.now());
    const evicted: Eviction | undefined = deadlineLeft !== undefined && deadlineLeft <= 0 ? DEADLINE_EXCEEDED : undefined;
    /** No container of this pod is (re)started any more. */
    const stopping = terminal || evicted !== undefined;
    let sandbox = cs.find((c) => c.name === SANDBOX && c.state === 'running');
    const byName = groupByName(cs);

    this.assertRunning();
    if (terminal) {
      // A finished pod keeps its containers for logs but gives up its sandbox.
      for (const c of cs) if (c.state === 'running') await this.kill(pod, c, 0);
    } else if (evicted) {
      this.o.recorder?.event(pod as never, 'Normal', evicted.reason, evicted.message);
      this.log.info({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, reason: evicted.reason }, 'pod failed by the kubelet; killing its containers');
      await this.killPod(uid, pod, cs, () => (spec.terminationGracePeriodSeconds ?? 30) * 1000);
    } else {
      if (!sandbox) {
        for (const c of cs) if (c.state === 'running') await this.kill(pod, c, 2000);
        const attempt = Math.max(-1, ...cs.filter((c) => c.name === SANDBOX).map((c) => c.attempt)) + 1;
        try {
          tl.mark('killedStale');
          const mounts = await sandboxMounts(pod, { clusterName: this.cfg.clusterName, nodeName: this.cfg.nodeName, runtime: rt, nodeMemoryBytes: this.cfg.memoryBytes });
          sandbox = await rt.runSandbox({
            pod,
            attempt,
            mounts,
            hostname: pod.spec?.hostname ?? pod.metadata?.name ?? 'pod',
            dns: podDns(pod, this.cfg.clusterDns, this.cfg.clusterDomain),
            extraHosts: (spec.hostAliases ?? []).flatMap((a) => (a.hostnames ?? []).map((h) => `${h}:${a.ip}`)),
          });
        } catch (err) {
          this.o.recorder?.event(pod as never, 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${(err as Error).message}`);
          throw err;
        }
        tl.mark('sandboxRunning');
      }
      const podIp = spec.hostNetwork ? this.cfg.nodeIp : sandbox.ip;
      const start = async (c: core.Container, attempt: number): Promise<void> => {
        this.assertRunning();
        const key = `${uid}/${c.name}`;
        const err = await this.startContainer(pod, c, sandbox as RuntimeContainer, attempt, podIp, tl);
        tl.mark(`started:${c.name}`);
        if (!err) return;
        waiting.set(c.name, err.waiting);
        wantRequeue(err.retryMs);
        void key;
      };
      // Init containers, one at a time, each to completion.
      let initialized = true;
      for (const ic of spec.initContainers ?? []) {
        const [latest] = byName.get(ic.name) ?? [];
        if (latest?.state === 'exited' && latest.exitCode === 0) continue;
        initialized = false;
        if (latest?.state === 'running') break;
        if (latest?.state === 'exited') {
          if (spec.restartPolicy === 'Never') break;
          const w = this.crashLoop(pod, ic, latest);
          if (w) {
            waiting.set(ic.name, w.waiting);
            wantRequeue(w.retryMs);
            break;
          }
        }
        await start(ic, latest ? latest.attempt + 1 : 0);
        break;
      }
      if (initialized) {
        for (const c of spec.containers) {
          const [latest] = byName.get(c.name) ?? [];
          if (latest?.state === 'running') {
            const failed = this.probes.state(uid, latest.id)?.failed;
            if (failed) {
              this.assertRunning();
              this.o.recorder?.event(pod as never, 'Normal', 'Killing', `Container ${c.name} failed ${failed.split(':')[0].toLowerCase()}, will be restarted`);
              await this.kill(pod, latest, (spec.terminationGracePeriodSeconds ?? 30) * 1000, c);
              this.enqueue(uid);
            }
            continue;
          }
          if (latest?.state === 'created') {
            this.assertRunning();
            await rt.startContainer(latest.id).catch(() => undefined);
            continue;
          }
          if (latest?.state === 'exited') {
            const policy = spec.restartPolicy ?? 'Always';
            if (policy === 'Never' || (policy === 'OnFailure' && latest.exitCode === 0)) continue;
            const w = this.crashLoop(pod, c, latest);
            if (w) {
              waiting.set(c.name, w.waiting);
              wantRequeue(w.retryMs);
              continue;
            }
          }
          await start(c, latest ? latest.attempt + 1 : 0);
        }
      }
      // Ephemeral containers (kubectl debug) start even before initialization is done, once each: one
      // that exists in the runtime, running or not, is never started again.
      for (const ec of spec.ephemeralContainers ?? []) {
        if (byName.has(ec.name)) continue;
        const target = ec.targetContainerName ? byName.get(ec.targetContainerName)?.[0] : undefined;
        if (ec.targetContainerName && !target) {
          // The target may be about to start in this very sync: look again shortly.
          const message = `unable to find target container ${ec.targetContainerName}`;
          this.o.recorder?.event(pod as never, 'Warning', 'Failed', `Error: ${message}`);
          waiting.set(ec.name, { reason: 'CreateContainerConfigError', message });
          wantRequeue(1000);
          continue;
        }
        this.assertRunning();
        const err = await this.startContainer(pod, ec as core.Container, sandbox, 0, podIp, tl, target?.id);
        tl.mark(`started:${ec.name}`);
        if (err) {
          waiting.set(ec.name, err.waiting);
          wantRequeue(err.retryMs);
        }
      }
    }

    // Status from what the runtime holds now.
    const listedAt = performance.now();
    const now = await rt.list(uid);
    tl.mark('relisted');
    this.last = withPod(this.last, uid, now);
    this.observed.set(uid, listedAt);
    // The relist now takes these states as handled; a container that stopped or vanished after this
    // sync's first list was not acted on (no restart decided), so that needs another sync.
    const before = new Map(cs.map((c) => [c.id, c.state]));
    if (now.some((c) => c.state !== 'running' && before.get(c.id) !== c.state) || cs.some((c) => !now.some((n) => n.id === c.id))) this.enqueue(uid);
    const after = groupByName(now);
    const sb = now.find((c) => c.name === SANDBOX && c.state === 'running') ?? now.find((c) => c.name === SANDBOX);
    const podIp = spec.hostNetwork ? this.cfg.nodeIp : sb?.ip;
    const running = spec.containers
      .concat(spec.initContainers ?? [])
      .map((c) => ({ spec: c, rc: after.get(c.name)?.[0] }))
      .filter((x): x is { spec: core.Container; rc: RuntimeContainer } => x.rc?.state === 'running')
      .map((x) => ({ ...x, host: podIp ?? this.cfg.nodeIp }));
    this.probes.sync(uid, running);
    const initDone = (spec.initContainers ?? []).every((ic) => {
      const l = after.get(ic.name)?.[0];
      return l?.state === 'exited' && l.exitCode === 0;
    });
    const statusOf = (c: core.Container, isInit: boolean): core.ContainerStatus => {
      const [latest, previous] = after.get(c.name) ?? [];
      const ps = latest?.state === 'running' ? this.probes.state(uid, latest.id) : undefined;
      let w = waiting.get(c.name);
      if (!w && !latest && !isInit && !initDone) w = { reason: 'PodInitializing' };
      if (!w && latest?.state === 'exited' && !stopping) {
        const policy = spec.restartPolicy ?? 'Always';
        const restarts = isInit ? policy !== 'Never' && latest.exitCode !== 0 : policy === 'Always' || (policy === 'OnFailure' && latest.exitCode !== 0);
        if (restarts) w = this.crashLoop(pod, c, latest, true)?.waiting;
      }
      return containerStatus({
        spec: c,
        latest,
        previous,
        waiting: w,
        ready: isInit ? false : ps?.ready ?? false,
        started: ps?.started ?? false,
        runtime: rt.kind,
      });
    };
    const base = { ...pod, status: prevStatus };
    const status = buildPodStatus({
      pod: base,
      init: (spec.initContainers ?? []).map((c) => statusOf(c, true)),
      app: spec.containers.map((c) => statusOf(c, false)),
      ephemeral: (spec.ephemeralContainers ?? []).map((ec) => ephemeralContainerStatus(ec, after.get(ec.name)?.[0], waiting.get(ec.name), rt.kind)),
      podIp,
      hostIp: this.cfg.nodeIp,
      now: Date.now(),
      startTime: sb?.createdAt,
      qosClass: qosClass(spec),
      evicted,
    });
    if (!isTerminalPhase(status.phase)) {
      // Come back when the deadline passes (the requeue timer, not a poll).
      const left = activeDeadlineLeftMs(spec, status.startTime, this.now());
      if (left !== undefined) wantRequeue(Math.max(0, left));
    }
    if (statusChanged(prevStatus, status)) {
      await this.writeStatus(pod, status);
      tl.mark(`statusWritten:${status.phase ?? ''}`);
    }
    if (isTerminalPhase(status.phase) && !terminal) this.enqueue(uid);
    await this.gc(now);
    if (requeue !== undefined) this.requeueAfter(uid, requeue);
    if (tl.enabled) this.log.debug({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, ...tl.fields() }, 'pod sync timeline');
  }

  /** Whether an exited container must wait (CrashLoopBackOff); records the restart when it may go. */
  private crashLoop(pod: core.Pod, c: core.Container, latest: RuntimeContainer, peek = false): { waiting: Waiting; retryMs: number } | undefined {
    const uid = pod.metadata?.uid ?? '';
    const key = `${uid}/${c.name}`;
    const finished = latest.finishedAt ?? Date.now();
    if (latest.startedAt && finished - latest.startedAt >= this.cfg.crashLoopBackoffResetMs) this.crashBackoff.reset(key);
    if (this.crashBackoff.isInBackOffSince(key, finished)) {
      const delay = this.crashBackoff.get(key);
      return {
        waiting: {
          reason: 'CrashLoopBackOff',
          message: `back-off ${formatDelay(delay)} restarting failed container=${c.name} pod=${pod.metadata?.name}_${pod.metadata?.namespace}(${uid})`,
        },
        retryMs: this.crashBackoff.remaining(key, finished) + 20,
      };
    }
    if (!peek) this.crashBackoff.next(key);
    return undefined;
  }

  /** Pulls, creates and starts one container (and runs postStart). Returns why it could not, if so. */
  private async startContainer(
    pod: core.Pod,
    c: core.Container,
    sandbox: RuntimeContainer,
    attempt: number,
    podIp: string | undefined,
    tl?: Timeline,
    pidTargetId?: string,
  ): Promise<{ waiting: Waiting; retryMs: number } | undefined> {
    const rt = this.o.runtime;
    const uid = pod.metadata?.uid ?? '';
    const imgKey = `${uid}/${c.name}`;
    const image = c.image ?? '';
    const prevFail = this.imageFailures.get(imgKey);
    if (prevFail && this.imageBackoff.isInBackOffSince(imgKey, prevFail.at)) {
      return {
        waiting: prevFail.never
          ? { reason: 'ErrImageNeverPull', message: prevFail.message }
          : { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}": ${prevFail.message}` },
        retryMs: this.imageBackoff.remaining(imgKey, prevFail.at) + 20,
      };
    }
    try {
      await rt.ensureImage(image, (c.imagePullPolicy ?? 'IfNotPresent') as 'Always' | 'IfNotPresent' | 'Never');
      tl?.mark(`image:${c.name}`);
      this.imageFailures.delete(imgKey);
      this.imageBackoff.reset(imgKey);
    } catch (err) {
      if (!(err instanceof ImagePullError)) throw err;
      this.imageBackoff.next(imgKey);
      this.imageFailures.set(imgKey, { at: Date.now(), message: err.message, never: err.neverPull });
      this.o.recorder?.event(pod as never, 'Warning', 'Failed', `Failed to pull image "${image}": ${err.message}`);
      // Come back soon so the status moves on from ErrImagePull to ImagePullBackOff, as kubectl users expect.
      return { waiting: { reason: err.neverPull ? 'ErrImageNeverPull' : 'ErrImagePull', message: err.message }, retryMs: 1000 };
    }
    let id: string;
    try {
      const ctx = this.envContext(pod, podIp);
      const fetch = new ObjectFetcher(this.o.client, pod.metadata?.namespace ?? 'default');
      const env = await resolveEnv(c, ctx, fetch, await this.serviceEnv(pod));
      let vols = this.volumes.get(uid);
      if (!vols) {
        let digests = this.volumeDigests.get(uid);
        if (!digests) this.volumeDigests.set(uid, (digests = new Map()));
        vols = await preparePodVolumes(pod, { clusterName: this.cfg.clusterName, nodeName: this.cfg.nodeName, client: this.o.client, runtime: rt, fetch, env: ctx }, digests);
        this.volumes.set(uid, vols);
      }
      const mounts = await containerMounts(pod, c, vols, rt, ctx);
      tl?.mark(`prepared:${c.name}`);
      id = await rt.createContainer({ pod, container: c, sandboxId: sandbox.id, attempt, env, mounts, ...(pidTargetId ? { pidTargetId } : {}) });
      tl?.mark(`created:${c.name}`);
      await rt.startContainer(id);
    } catch (err) {
      if (!(err instanceof ContainerStartError)) throw err;
      this.o.recorder?.event(pod as never, 'Warning', 'Failed', `Error: ${err.message}`);
      return { waiting: { reason: err.reason, message: err.message }, retryMs: err.reason === 'CreateContainerConfigError' ? 2000 : 5000 };
    }
    this.o.recorder?.event(pod as never, 'Normal', 'Started', `Started container ${c.name}`);
    const hook = c.lifecycle?.postStart;
    if (hook) {
      const r = await runHandler(hook, { runtime: rt, containerId: id, container: c, host: podIp ?? this.cfg.nodeIp }, 30_000);
      if (!r.ok) {
        this.o.recorder?.event(pod as never, 'Warning', 'FailedPostStartHook', r.message);
        await rt.stopContainer(id, 0);
      }
    }
    return undefined;
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
  private async killPod(uid: string, pod: core.Pod | undefined, cs: RuntimeContainer[], graceMs: (c: RuntimeContainer) => number): Promise<void> {
    this.probes.removePod(uid);
    await Promise.all(cs.filter((c) => c.name !== SANDBOX && c.state === 'running').map((c) => this.kill(pod, c, graceMs(c))));
    for (const c of cs) if (c.name === SANDBOX && c.state === 'running') await this.o.runtime.stopContainer(c.id, 0);
  }

  /** Stops one container: preStop hook, then SIGTERM, SIGKILL after what is left of the grace period. */
  private async kill(pod: core.Pod | undefined, rc: RuntimeContainer, graceMs: number, spec?: core.Container): Promise<void> {
    const ct = spec ?? pod?.spec?.containers.find((c) => c.name === rc.name) ?? pod?.spec?.initContainers?.find((c) => c.name === rc.name);
    const started = Date.now();
    const hook = ct?.lifecycle?.preStop;
    if (hook && rc.state === 'running' && ct && graceMs > 0) {
      const sb = (await this.o.runtime.list(rc.podUid)).find((c) => c.name === SANDBOX && c.state === 'running');
      const r = await runHandler(hook, { runtime: this.o.runtime, containerId: rc.id, container: ct, host: sb?.ip ?? this.cfg.nodeIp }, graceMs);
      if (!r.ok && pod) this.o.recorder?.event(pod as never, 'Warning', 'FailedPreStopHook', r.message);
    }
    // Kubernetes gives at least 2 s after a preStop hook that used up the grace period.
    const left = hook ? Math.max(2000, graceMs - (Date.now() - started)) : graceMs;
    await this.o.runtime.stopContainer(rc.id, left);
  }

  /** Stops every container of the pod (app containers in parallel, then the sandbox) and removes them. */
  private async teardown(uid: string, cs: RuntimeContainer[], pod: core.Pod | undefined, graceMs: number | undefined): Promise<void> {
    await this.killPod(uid, pod, cs, (c) => graceMs ?? (c.graceSeconds ?? 30) * 1000);
    for (const c of cs) await this.o.runtime.removeContainer(c.id);
    await this.o.runtime.removePodVolumes(uid);
    if (cs.length > 0) this.log.info({ podUid: uid, containers: cs.length }, 'pod containers removed');
  }

  private forget(uid: string): void {
    this.written.delete(uid);
    this.writtenRv.delete(uid);
    this.observed.delete(uid);
    this.volumes.delete(uid);
    this.volumeDigests.delete(uid);
    this.crashBackoff.forgetPrefix(`${uid}/`);
    this.imageBackoff.forgetPrefix(`${uid}/`);
    for (const k of this.imageFailures.keys()) if (k.startsWith(`${uid}/`)) this.imageFailures.delete(k);
    const t = this.requeues.get(uid);
    if (t) clearTimeout(t);
    this.requeues.delete(uid);
  }

  /** Keeps the newest two containers per name (current + previous, for logs --previous) and the newest sandbox. */
  private async gc(cs: RuntimeContainer[]): Promise<void> {
    const by = groupByName(cs);
    for (const [name, list] of by) {
      const keep = name === SANDBOX ? 1 : 2;
      for (const c of list.slice(keep)) if (c.state !== 'running') await this.o.runtime.removeContainer(c.id);
    }
  }

  private async writeStatus(pod: core.Pod, status: core.PodStatus): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    let name = pod.metadata?.name ?? '';
    if (isStaticPod(pod)) {
      const mirror = this.mirrors.get(uid);
      if (!mirror) {
        this.written.set(uid, status);
        return;
      }
      name = mirror;
    }
    const obj = clone(pod) as Mutable<core.Pod>;
    obj.metadata = { ...obj.metadata, name, resourceVersion: undefined, ...(isStaticPod(pod) ? { uid: undefined } : {}) };
    obj.status = status;
    this.writing.set(uid, status);
    try {
      const stored = await this.o.client.updateStatus('pods', obj);
      this.written.set(uid, status);
      this.writtenRv.set(uid, Number(stored.metadata?.resourceVersion ?? 0));
    } catch (err) {
      if (isNotFound(err)) {
        this.written.set(uid, status);
        return;
      }
      throw err;
    } finally {
      this.writing.delete(uid);
    }
  }

  /** Records the mirror pod name of a static pod (its status goes there). */
  setMirror(staticUid: string, name: string): void {
    this.mirrors.set(staticUid, name);
    this.written.delete(staticUid);
    this.enqueue(staticUid);
  }
}

/** Debug time-line of one sync: named marks as ms offsets from its start (no cost when disabled). */
class Timeline {
  private readonly t0 = performance.now();
  private readonly marks: [string, number][] = [];

  constructor(readonly enabled: boolean) {}

  mark(name: string): void {
    if (this.enabled) this.marks.push([name, Math.round(performance.now() - this.t0)]);
  }

  fields(): Record<string, number> {
    return { ...Object.fromEntries(this.marks), totalMs: Math.round(performance.now() - this.t0) };
  }
}

function groupByName(cs: RuntimeContainer[]): Map<string, RuntimeContainer[]> {
  const m = new Map<string, RuntimeContainer[]>();
  for (const c of cs) {
    let l = m.get(c.name);
    if (!l) m.set(c.name, (l = []));
    l.push(c);
  }
  for (const l of m.values()) l.sort((a, b) => b.attempt - a.attempt || b.createdAt - a.createdAt);
  return m;
}

function formatDelay(ms: number): string {
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m0s`;
  return `${Math.round(ms / 1000)}s`;
}
