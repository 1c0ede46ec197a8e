/**
 * The Scheduler: informers on pods, nodes and services feed the cache (assigned pods, nodes) and the
 * scheduling queue (pods without a node that are ours). While leading, `run` pops one pod at a time,
 * re-reads it from the informer, decides synchronously against the cache, assumes the pod on the chosen
 * node, and writes the binding in the background (a bounded number in flight), so the next decision
 * already sees the previous one. Failures are explained with a FailedScheduling event and a
 * PodScheduled=False condition; a pod that fits nowhere may preempt pods of lower priority (preemption.ts):
 * it is nominated to the chosen node while its victims terminate, and retried when they are gone.
 */
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ApiClient } from '../client/api.js';
import { bindingRefusal, isConflict, isNotFound } from '../api/errors.js';
import { EventRecorder } from '../client/events.js';
import { Informer } from '../client/informer.js';
import { podCondition } from '../api/objects.js';
import type { core } from '../api/types.js';
import { Nominator } from './nominator.js';
import { preempt, type Candidate } from './preemption.js';
import { keyOf } from '../api/types.js';
import { Algorithm } from './algorithm.js';
import { SchedulerCache } from './cache.js';
import type { SchedulerConfig } from './config.js';
import { Diagnosis, fitErrorMessage } from './diagnosis.js';
import { AttemptStore, type AttemptRecord } from './attempts.js';
import type { PodInfo } from './framework.js';
import { DEFAULT_FILTERS, DEFAULT_SCORES } from './plugins/index.js';

const SCORE_WEIGHTS: Readonly<Record<string, number>> = Object.fromEntries(DEFAULT_SCORES.map((s) => [s.name, s.weight]));
import { newPodInfo, type ServiceSelectors } from './podinfo.js';
import type { NamespaceLabels } from './framework.js';
import { SchedulingQueue, type QueuedPod } from './queue.js';
import { BackgroundQueue } from './eventqueue.js';

interface Metrics {
  attempts: Counter<'result'>;
  e2e: Histogram<'result'>;
  algorithm: Histogram<string>;
  binding: Histogram<string>;
  eventsDropped: Counter<string>;
}

function makeMetrics(registry: Registry, queue: SchedulingQueue): Metrics {
  new Gauge({
    name: 'scheduler_pending_pods',
    help: 'Pods waiting to be scheduled, by queue (active, backoff, unschedulable, inflight)',
    labelNames: ['queue'],
    registers: [registry],
    collect() {
      for (const [q, n] of Object.entries(queue.counts())) this.set({ queue: q }, n);
    },
  });
  return {
    attempts: new Counter({ name: 'scheduler_schedule_attempts_total', help: 'Scheduling attempts by result (scheduled, unschedulable, error)', labelNames: ['result'], registers: [registry] }),
    e2e: new Histogram({
      name: 'scheduler_e2e_scheduling_duration_seconds',
      help: 'Time from a pod entering the queue to its binding being written',
      labelNames: ['result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    algorithm: new Histogram({
      name: 'scheduler_scheduling_algorithm_duration_seconds',
      help: 'Time to filter and score nodes for one pod',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1],
      registers: [registry],
    }),
    eventsDropped: new Counter({ name: 'scheduler_events_dropped_total', help: 'Scheduled events dropped because the background event queue was full', registers: [registry] }),
    binding: new Histogram({
      name: 'scheduler_binding_duration_seconds',
      help: 'Time to write one binding',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers: [registry],
    }),
  };
}

const FAILURE_EVENT_INTERVAL_MS = 60_000;

const isTerminal = (pod: core.Pod): boolean => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Whether a node change could let an unschedulable pod fit (heartbeats alone do not). */
function nodeSchedulingChanged(a: core.Node, b: core.Node): boolean {
  const ready = (n: core.Node) => n.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  return (
    ready(a) !== ready(b) ||
    a.spec?.unschedulable !== b.spec?.unschedulable ||
    !sameJson(a.metadata?.labels, b.metadata?.labels) ||
    !sameJson(a.spec?.taints, b.spec?.taints) ||
    !sameJson(a.status?.allocatable, b.status?.allocatable)
  );
}

export interface SchedulerStats {
  scheduled: number;
  unschedulable: number;
  errors: number;
  bindsInFlight: number;
}

export class Scheduler {
  readonly cache = new SchedulerCache();
  readonly queue: SchedulingQueue;
  readonly pods: Informer<'pods'>;
  readonly nodes: Informer<'nodes'>;
  readonly services: Informer<'services'>;
  /** Namespace labels, for pod affinity terms with a namespaceSelector. */
  readonly namespaces: Informer<'namespaces'>;
  /** PodDisruptionBudgets: preemption prefers victims whose deletion no budget forbids. */
  readonly pdbs: Informer<'poddisruptionbudgets'>;
  /** Pods nominated to nodes by preemption, waiting for their victims to go. */
  readonly nominator = new Nominator();
  /** Each pod's last attempt, for the admin endpoint `/debug/attempts` (empty unless cfg.recordAttempts). */
  readonly attempts = new AttemptStore();
  private readonly algorithm: Algorithm;
  private readonly recorder: EventRecorder;
  private readonly metrics: Metrics;
  private readonly serviceSelectors: ServiceSelectors;
  private readonly namespaceLabels: NamespaceLabels;
  /**
   * Keys of unschedulable pods whose verdict depends on other pods (inter-pod affinity, topology spread):
   * a newly assigned pod may let them fit, so it moves them back to active (kube-scheduler's queueing hint).
   */
  private readonly waitingOnPods = new Set<string>();
  private inFlight = 0;
  private slotWaiters: (() => void)[] = [];
  private readonly bindsDone = new Set<Promise<void>>();
  /** Last FailedScheduling event per pod uid: repeats of the same explanation are throttled. */
  private readonly lastFailure = new Map<string, { message: string; at: number }>();
  /** "Scheduled" events trail the bindings (a few at a time) instead of competing with them. */
  private readonly background: BackgroundQueue;
  readonly stats: SchedulerStats = { scheduled: 0, unschedulable: 0, errors: 0, bindsInFlight: 0 };

  constructor(
    private readonly client: ApiClient,
    private readonly cfg: SchedulerConfig,
    private readonly log: Logger,
    registry: Registry,
  ) {
    this.queue = new SchedulingQueue({ initialBackoffMs: cfg.podInitialBackoffMs, maxBackoffMs: cfg.podMaxBackoffMs });
    this.pods = new Informer(client, 'pods', { logger: log, pageSize: 1000 });
    this.nodes = new Informer(client, 'nodes', { logger: log, pageSize: 1000 });
    this.services = new Informer(client, 'services', { logger: log });
    this.namespaces = new Informer(client, 'namespaces', { logger: log });
    this.pdbs = new Informer(client, 'poddisruptionbudgets', { logger: log });
    this.namespaceLabels = (ns) => this.namespaces.get(ns)?.metadata?.labels;
    this.algorithm = new Algorithm({ filters: DEFAULT_FILTERS, scores: DEFAULT_SCORES, percentageOfNodesToScore: cfg.percentageOfNodesToScore, nominated: this.nominator, trace: cfg.recordAttempts });
    this.recorder = new EventRecorder(client, { component: 'default-scheduler', host: cfg.identity }, log);
    this.metrics = makeMetrics(registry, this.queue);
    this.background = new BackgroundQueue({ concurrency: 4, maxQueued: 2000, onDrop: () => this.metrics.eventsDropped.inc() });
    this.serviceSelectors = (ns) =>
      this.services
        .byNamespace(ns)
        .filter((s) => s.spec?.selector && Object.keys(s.spec.selector).length > 0)
        .map((s) => ({ key: keyOf(s), selector: s.spec?.selector as Record<string, string> }));
    this.wire();
  }

  /** Starts the informers (every replica keeps a warm cache; only the leader schedules). */
  startInformers(signal: AbortSignal): void {
    this.services.start(signal);
    this.namespaces.start(signal);
    this.pdbs.start(signal);
    this.nodes.start(signal);
    this.pods.start(signal);
    this.queue.runFlusher(signal).catch(() => undefined);
  }

  async waitForSync(signal: AbortSignal): Promise<void> {
    await Promise.all([this.services.waitForSync(signal), this.namespaces.waitForSync(signal), this.pdbs.waitForSync(signal), this.nodes.waitForSync(signal), this.pods.waitForSync(signal)]);
  }

  private responsible(pod: core.Pod): boolean {
    return !pod.spec?.nodeName && pod.spec?.schedulerName === this.cfg.schedulerName && !pod.metadata?.deletionTimestamp && !isTerminal(pod);
  }

  private podInfo(pod: core.Pod): PodInfo {
    return newPodInfo(pod, this.serviceSelectors, this.namespaceLabels);
  }

  private wire(): void {
    this.pods.addHandler({
      onAdd: (pod) => this.onPod(undefined, pod),
      onUpdate: (old, pod) => this.onPod(old, pod),
      onDelete: (pod) => {
        const uid = pod.metadata?.uid ?? '';
        this.queue.delete(keyOf(pod));
        this.waitingOnPods.delete(keyOf(pod));
        this.lastFailure.delete(uid);
        this.forgetNomination(uid);
        if (this.cache.hasPod(uid)) {
          this.cache.removePod(uid);
          this.queue.moveAllToActive();
        }
      },
    });
    this.nodes.addHandler({
      onAdd: (node) => {
        this.cache.addOrUpdateNode(node);
        this.queue.moveAllToActive();
      },
      onUpdate: (old, node) => {
        this.cache.addOrUpdateNode(node);
        if (nodeSchedulingChanged(old, node)) this.queue.moveAllToActive();
      },
      onDelete: (node) => this.cache.removeNode(node.metadata?.name ?? ''),
    });
    const regroup = (svc: core.Service): void => {
      const ns = svc.metadata?.namespace ?? '';
      this.cache.regroup(ns, (p) => this.podInfo(p));
    };
    this.services.addHandler({
      onAdd: regroup,
      onUpdate: (old, svc) => {
        if (!sameJson(old.spec?.selector, svc.spec?.selector)) regroup(svc);
      },
      onDelete: regroup,
    });
    this.namespaces.addHandler({
      onUpdate: (old, ns) => {
        if (!sameJson(old.metadata?.labels, ns.metadata?.labels)) this.queue.moveAllToActive();
      },
    });
  }

  /** A pod was placed (or its labels changed): pods waiting for such a pod get another attempt. */
  private wakeWaitingOnPods(): void {
    if (this.waitingOnPods.size === 0) return;
    this.queue.moveToActive(this.waitingOnPods);
    this.waitingOnPods.clear();
  }

  /** The pod no longer waits for a nominated node (bound, deleted, not ours). Free when nothing is nominated. */
  private forgetNomination(uid: string): void {
    if (this.nominator.size > 0) this.nominator.remove(uid);
  }

  /**
   * Follows status.nominatedNodeName of a pending pod (other replicas' preemptions, restarts). An update
   * that carries no nomination before or after keeps ours: it may predate our own status write.
   */
  private trackNomination(old: core.Pod | undefined, pod: core.Pod): void {
    const nominated = pod.status?.nominatedNodeName;
    const uid = pod.metadata?.uid ?? '';
    if (nominated) this.nominator.add(this.podInfo(pod), nominated);
    else if (old?.status?.nominatedNodeName) this.forgetNomination(uid);
  }

  private onPod(old: core.Pod | undefined, pod: core.Pod): void {
    const key = keyOf(pod);
    const uid = pod.metadata?.uid ?? '';
    const node = pod.spec?.nodeName;
    if (node) {
      this.forgetNomination(uid);
      this.queue.delete(key);
      this.waitingOnPods.delete(key);
      this.lastFailure.delete(uid);
      if (isTerminal(pod)) {
        // Finished pods no longer hold resources (kube-scheduler ignores them too).
        if (this.cache.hasPod(uid)) {
          this.cache.removePod(uid);
          this.queue.moveAllToActive();
        }
        return;
      }
      // Status-only updates (the kubelet's) change nothing the cache holds: skip recomputing. The start of a
      // graceful deletion does: preemption waits for terminating pods on a nominated node.
      const unchanged =
        old?.spec?.nodeName === node &&
        this.cache.nodeOf(uid) === node &&
        !this.cache.isAssumed(uid) &&
        sameJson(old.metadata?.labels, pod.metadata?.labels) &&
        !old.metadata?.deletionTimestamp === !pod.metadata?.deletionTimestamp;
      if (!unchanged) {
        this.cache.addOrUpdatePod(this.podInfo(pod), node);
        this.wakeWaitingOnPods();
      } else this.cache.refreshPod(pod);
      return;
    }
    if (!this.responsible(pod)) {
      this.queue.delete(key);
      this.forgetNomination(uid);
      return;
    }
    if (this.cache.isAssumed(uid)) return; // being bound right now
    if (pod.status?.nominatedNodeName || old?.status?.nominatedNodeName) {
      try {
        this.trackNomination(old, pod);
      } catch (err) {
        // Still queued below: the scheduling attempt explains the pod (SchedulerError) and retries it.
        this.log.warn({ pod: key, err: (err as Error).message }, 'nomination not tracked');
      }
    }
    // Our own PodScheduled=False write comes back as an update: only a real change re-activates the pod.
    const changed = !old || old.metadata?.generation !== pod.metadata?.generation || !sameJson(old.metadata?.labels, pod.metadata?.labels);
    if (changed || !this.queue.has(key)) this.queue.add(key, pod.spec?.priority ?? 0);
  }

  /**
   * Schedules until the signal aborts (leadership lost or shutdown); waits for in-flight binds. `loop`
   * hears each turn, and that the loop is idle while it waits for a pod (see Liveness).
   */
  async run(signal: AbortSignal, loop?: { beat(): void; idle(): void }): Promise<void> {
    const onAbort = (): void => {
      this.queue.close();
      for (const w of this.slotWaiters.splice(0)) w();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    this.log.info({ nodes: this.cache.nodeCount, pending: this.queue.size }, 'scheduling');
    let sinceYield = 0;
    try {
      while (!signal.aborted) {
        await this.acquireSlot();
        if (signal.aborted) {
          this.releaseSlot();
          break;
        }
        loop?.idle();
        const e = await this.queue.pop();
        loop?.beat();
        if (!e || signal.aborted) {
          this.releaseSlot();
          break;
        }
        this.scheduleOne(e, signal);
        // The loop only awaits already-resolved promises while pods are queued: let I/O in regularly.
        if (++sinceYield >= 32) {
          sinceYield = 0;
          await new Promise((r) => setImmediate(r));
        }
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      await Promise.allSettled([...this.bindsDone]);
    }
  }

  private acquireSlot(): Promise<void> {
    if (this.inFlight < this.cfg.bindConcurrency) {
      this.inFlight++;
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      this.slotWaiters.push(() => {
        this.inFlight++;
        resolve();
      }),
    );
  }

  private releaseSlot(): void {
    this.inFlight--;
    this.slotWaiters.shift()?.();
  }

  /** One attempt for one pod; holds a bind slot that is released when the attempt ends. */
  private scheduleOne(e: QueuedPod, signal: AbortSignal): void {
    const pod = this.pods.get(e.key);
    if (!pod || !this.responsible(pod) || this.cache.isAssumed(pod.metadata?.uid ?? '')) {
      this.queue.done(e);
      this.releaseSlot();
      return;
    }
    let info: PodInfo;
    let nodeName: string;
    try {
      info = this.podInfo(pod);
      const t0 = performance.now();
      const nominated = this.nominator.size > 0 ? this.nominator.nodeOf(info.uid) : undefined;
      const result = this.algorithm.schedule(info, this.cache.list(), nominated !== undefined ? this.cache.node(nominated) : undefined);
      this.metrics.algorithm.observe((performance.now() - t0) / 1000);
      if (!result.node) {
        this.stats.unschedulable++;
        this.metrics.attempts.inc({ result: 'unschedulable' });
        this.queue.requeueUnschedulable(e);
        if (info.podAffinity || info.hardSpread) this.waitingOnPods.add(e.key);
        const post = this.preempt(info, nominated);
        const message = fitErrorMessage(this.cache.nodeCount, result.diagnosis ?? new Diagnosis(), post.message);
        this.log.debug({ pod: e.key, message }, 'pod unschedulable');
        this.releaseSlot();
        this.recordAttempt(info, 'Unschedulable', { message, nominatedNode: post.nominate ?? undefined, ...(post.victims ? { victims: post.victims, pdbViolations: post.pdbViolations ?? 0 } : {}) });
        this.recordFailure(pod, 'Unschedulable', message, post.nominate);
        return;
      }
      nodeName = result.node.name;
      this.recordAttempt(info, 'Scheduled', { node: nodeName });
    } catch (err) {
      this.schedulingError(e, pod, err);
      return;
    }
    this.forgetNomination(info.uid);
    this.cache.assume({ ...info, nodeName }, nodeName);
    const done = this.bind(e, pod, info, nodeName, signal).finally(() => {
      this.bindsDone.delete(done);
      this.releaseSlot();
    });
    this.bindsDone.add(done);
  }

  /** Keeps the algorithm's trace of this attempt (cfg.recordAttempts) for the dashboard's scheduler panel. */
  private recordAttempt(info: PodInfo, result: AttemptRecord['result'], extra: { node?: string; message?: string; nominatedNode?: string; victims?: string[]; pdbViolations?: number }): void {
    const trace = this.algorithm.lastTrace;
    if (!this.cfg.recordAttempts || !trace) return;
    this.attempts.record({
      namespace: info.namespace,
      name: info.name,
      uid: info.uid,
      time: new Date().toISOString(),
      result,
      ...extra,
      nodes: this.cache.nodeCount,
      evaluated: trace.evaluated,
      feasible: trace.feasible,
      filters: trace.filters.map((f) => ({ node: f.node, code: f.status?.code ?? 'Success', reasons: f.status?.reasons ?? [] })),
      scores: trace.scores,
      weights: SCORE_WEIGHTS,
    });
  }

  /**
   * An exception while deciding for one pod (a malformed object, e.g. written straight into etcd, or a
   * plugin bug) costs that pod only: logged with its key, explained as FailedScheduling with reason
   * SchedulerError (as kube-scheduler's handleSchedulingFailure), retried with backoff, and the loop goes on.
   */
  private schedulingError(e: QueuedPod, pod: core.Pod, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.stats.errors++;
    this.metrics.attempts.inc({ result: 'error' });
    this.log.error({ pod: e.key, err: message, stack: err instanceof Error ? err.stack : undefined }, 'scheduling attempt failed; will retry');
    this.queue.requeueBackoff(e);
    this.releaseSlot();
    try {
      this.recordFailure(pod, 'SchedulerError', `error while scheduling pod: ${message}`);
    } catch (recordErr) {
      this.log.warn({ pod: e.key, err: (recordErr as Error).message }, 'scheduling failure not recorded');
    }
  }

  private async bind(e: QueuedPod, pod: core.Pod, info: PodInfo, nodeName: string, signal: AbortSignal): Promise<void> {
    const t0 = performance.now();
    try {
      // Cancelled with the leadership: a leader that lost its lease writes nothing more.
      await this.client.bind(info.namespace, info.name, nodeName, info.uid, { signal });
    } catch (err) {
      this.cache.forget(info.uid);
      const msg = err instanceof Error ? err.message : String(err);
      if (isNotFound(err) || bindingRefusal(err) !== undefined) {
        // The pod is gone or someone else bound it: nothing to retry; the watch brings the truth.
        this.queue.done(e);
        return;
      }
      this.stats.errors++;
      this.metrics.attempts.inc({ result: 'error' });
      this.log.warn({ pod: e.key, node: nodeName, err: msg }, 'binding failed; will retry');
      if (!signal.aborted) {
        this.queue.requeueBackoff(e);
        this.recorder.event(pod, 'Warning', 'FailedScheduling', `Binding rejected: ${msg}`);
      }
      return;
    }
    const now = Date.now();
    this.stats.scheduled++;
    this.metrics.attempts.inc({ result: 'scheduled' });
    this.metrics.binding.observe((performance.now() - t0) / 1000);
    this.metrics.e2e.observe({ result: 'scheduled' }, (now - e.firstSeen) / 1000);
    this.queue.done(e);
    if (this.cfg.scheduledEvents) {
      const message = `Successfully assigned ${info.namespace}/${info.name} to ${nodeName}`;
      this.background.push(() => this.recorder.record(pod, 'Normal', 'Scheduled', message));
    }
  }

  /**
   * PostFilter: lets the pod preempt lower-priority pods. On success the victims are deleted (gracefully;
   * the kubelet stops them) and the pod is nominated to their node; their deletion retries it.
   * Returns the FailedScheduling suffix and the nomination to write (a node, null to clear, undefined to keep).
   */
  private preempt(info: PodInfo, nominated: string | undefined): { message: string; nominate?: string | null; victims?: string[]; pdbViolations?: number } {
    const nodes = this.cache.list();
    const nominatedNode = nominated ?? (info.pod.status?.nominatedNodeName || undefined);
    if (nodes.length === 0) return { message: '' };
    const t0 = performance.now();
    const result = preempt({
      pod: info,
      nodes,
      statuses: info.pod.spec?.preemptionPolicy === 'Never' ? [] : this.algorithm.filterAll(info, nodes),
      nominatedNode,
      pdbs: this.pdbs.list(),
      fits: (pod, changed) => this.algorithm.filterWhatIf(pod, changed, nodes),
      now: Date.now(),
      random: Math.random,
    });
    this.log.debug({ pod: info.key, result: result.kind, ms: performance.now() - t0 }, 'preemption');
    if (result.kind === 'wait') return { message: result.message };
    if (result.kind === 'none') {
      if (!nominatedNode) return { message: result.message };
      this.nominator.remove(info.uid);
      return { message: result.message, nominate: null };
    }
    this.carryOut(info, result.candidate);
    return { message: '', nominate: result.candidate.node, victims: result.candidate.victims.map((v) => v.key), pdbViolations: result.candidate.numPDBViolations };
  }

  /**
   * prepareCandidate: nominates the preemptor at once (so the next decisions keep the room for it), deletes
   * the victims with their grace period and tells each one why, and drops the nominations of
   * lower-priority pods to that node, which may no longer fit there.
   */
  private carryOut(preemptor: PodInfo, c: Candidate): void {
    this.nominator.add(preemptor, c.node);
    this.log.info({ pod: preemptor.key, node: c.node, victims: c.victims.map((v) => v.key), pdbViolations: c.numPDBViolations }, 'preempting');
    for (const victim of c.victims) {
      this.client
        .delete('pods', victim.name, { namespace: victim.namespace, preconditions: { uid: victim.uid } })
        .then(() => this.recorder.event(victim.pod, 'Normal', 'Preempted', `Preempted by pod ${preemptor.uid} on node ${c.node}`))
        .catch((err: unknown) => {
          if (!isNotFound(err) && !isConflict(err)) this.log.warn({ pod: victim.key, err: (err as Error).message }, 'victim not deleted');
        });
    }
    for (const p of this.nominator.lowerPriorityOn(c.node, preemptor.priority)) {
      this.nominator.remove(p.uid);
      this.patchStatus(p.pod, { nominatedNodeName: null });
    }
  }

  private patchStatus(pod: core.Pod, status: Record<string, unknown>): void {
    this.client
      .patch('pods', pod.metadata?.name ?? '', { status }, { namespace: pod.metadata?.namespace, type: 'strategic', subresource: 'status' })
      .catch((err: unknown) => this.log.debug({ pod: keyOf(pod), err: (err as Error).message }, 'pod status not updated'));
  }

  /**
   * FailedScheduling event plus PodScheduled=False (and the nomination: a node, null to clear, undefined
   * to leave as is), written only when something changed.
   */
  private recordFailure(pod: core.Pod, reason: string, message: string, nominate?: string | null): void {
    // Like Kubernetes' event spam filter: every retry of an unschedulable pod (each node change triggers
    // one) would otherwise write an event; repeat an unchanged explanation at most once a minute.
    const uid = pod.metadata?.uid ?? '';
    const last = this.lastFailure.get(uid);
    const now = Date.now();
    if (!last || last.message !== message || now - last.at >= FAILURE_EVENT_INTERVAL_MS) {
      this.lastFailure.set(uid, { message, at: now });
      this.recorder.event(pod, 'Warning', 'FailedScheduling', message);
    }
    const cond = podCondition(pod, 'PodScheduled');
    const nominationChanged = nominate !== undefined && (pod.status?.nominatedNodeName || null) !== nominate;
    if (!nominationChanged && cond?.status === 'False' && cond.reason === reason && cond.message === message) return;
    this.patchStatus(pod, {
      conditions: [{ type: 'PodScheduled', status: 'False', reason, message, lastProbeTime: null, lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }],
      ...(nominationChanged ? { nominatedNodeName: nominate } : {}),
    });
  }
}
