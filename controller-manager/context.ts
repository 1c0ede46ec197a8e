/**
 * What every controller is built from: the shared informers (one per resource, started once, shared by
 * all controllers), the client, an event recorder, a logger, the clock and the config.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ApiClient } from '../client/api.js';
import type { Clock } from '../component-base/clock.js';
import type { EventRecorder } from '../client/events.js';
import { Informer, type Lister } from '../client/informer.js';
import type { Reconciler } from '../client/runner.js';
import type { KObject, ResourceName } from '../api/types.js';
import type { ControllerManagerConfig } from './config.js';
import type { MetricsStore } from './metricsstore.js';
import type { Pod } from './types.js';

/**
 * The index of dependents by their controller's UID, objects without a controller under their namespace's orphan
 * key (Kubernetes' PodControllerUIDIndex and OrphanPodIndexKey): a ReplicaSet's sync looks at its own pods and the
 * orphans it may adopt, not at every pod of its namespace — with 300 ReplicaSets of 100 pods in one namespace that
 * scan was most of the controller-manager's CPU (bench/scale.ts).
 */
export const CONTROLLER_INDEX = 'controller';
const ORPHAN_PREFIX = '\u0000orphan/';

function controllerIndexKeys(o: KObject): string[] {
  const ref = o.metadata?.ownerReferences?.find((r) => r.controller === true);
  return [ref?.uid ?? `${ORPHAN_PREFIX}${o.metadata?.namespace ?? ''}`];
}

/** What a controller's claim looks at: the objects it controls and the orphans of its namespace. */
export function claimCandidates<T extends KObject>(lister: Lister<T>, namespace: string, ownerUid: string | undefined): T[] {
  const own = ownerUid ? lister.byIndex(CONTROLLER_INDEX, ownerUid).filter((o) => (o.metadata?.namespace ?? '') === namespace) : [];
  return [...own, ...lister.byIndex(CONTROLLER_INDEX, `${ORPHAN_PREFIX}${namespace}`)];
}

/** One informer per resource, created on first use; `start` starts them all once. */
export class SharedInformers {
  private readonly map = new Map<string, Informer<string>>();
  private started?: AbortSignal;

  constructor(
    private readonly client: ApiClient,
    private readonly log: Logger,
    private readonly clock?: Clock,
  ) {}

  get<R extends ResourceName>(resource: R): Informer<R> {
    let inf = this.map.get(resource) as Informer<R> | undefined;
    if (!inf) {
      inf = new Informer(this.client, resource, { logger: this.log, clock: this.clock });
      // Most controllers look pods (and other dependents) up by owner and node: index once for all.
      inf.addIndex('owner', (o) => (o.metadata?.ownerReferences ?? []).map((r) => r.uid));
      inf.addIndex('uid', (o) => (o.metadata?.uid ? [o.metadata.uid] : []));
      inf.addIndex(CONTROLLER_INDEX, controllerIndexKeys);
      if (resource === 'pods') inf.addIndex('node', (o) => [((o as { spec?: { nodeName?: string } }).spec?.nodeName) ?? '']);
      this.map.set(resource, inf as unknown as Informer<string>);
      if (this.started) inf.start(this.started);
    }
    return inf;
  }

  start(signal: AbortSignal): void {
    this.started = signal;
    for (const inf of this.map.values()) inf.start(signal);
  }

  async waitForSync(signal: AbortSignal): Promise<void> {
    await Promise.all([...this.map.values()].map((i) => i.waitForSync(signal)));
  }

  allSynced(): boolean {
    return [...this.map.values()].every((i) => i.hasSynced());
  }

  async stopped(): Promise<void> {
    await Promise.all([...this.map.values()].map((i) => i.stopped()));
  }
}

export interface ControllerContext {
  readonly client: ApiClient;
  readonly informers: SharedInformers;
  readonly recorder: EventRecorder;
  readonly log: Logger;
  readonly clock: Clock;
  readonly config: ControllerManagerConfig;
  /** The latest resource usage the metrics scraper collected (read by the HPA controller). */
  readonly metrics: MetricsStore;
  /** The process's metrics registry (served on the admin port), for a controller's own metrics. */
  readonly registry?: Registry;
}

/** How a controller's event handlers hand keys to its work queue. */
export interface Enqueue {
  add(key: string): void;
  addAfter(key: string, ms: number): void;
}

/**
 * The objects `pred` accepts. An object for which `pred` throws (a malformed selector stored around the
 * apiserver's validation) matches nothing: its own reconcile reports it, and its neighbours still match.
 */
export function matching<T>(objs: readonly T[], pred: (o: T) => boolean): T[] {
  return objs.filter((o) => {
    try {
      return pred(o);
    } catch {
      return false;
    }
  });
}

/**
 * Feeds pod events to a queue as the keys of the objects that select the pod (`keysFor`), before and after
 * a label change, so both the object that lost the pod and the one that gained it are reconciled.
 */
export function enqueueForPods(pods: Informer<'pods'>, keysFor: (pod: Pod) => Iterable<string>, q: Enqueue): void {
  const forPod = (p: Pod): void => {
    for (const k of keysFor(p)) q.add(k);
  };
  pods.addHandler({
    onAdd: forPod,
    onUpdate: (o, p) => {
      forPod(p);
      if (!isDeepStrictEqual(o.metadata?.labels, p.metadata?.labels)) forPod(o);
    },
    onDelete: forPod,
  });
}

/** A controller: a Reconciler plus the informer handlers that feed its queue. */
export interface Controller extends Reconciler {
  /** Wires informer handlers (called once, before informers start). */
  register(queue: Enqueue): void;
  /** Optional one-off work after caches synced (e.g. creating defaults). */
  afterSync?(signal: AbortSignal): Promise<void>;
  readonly workers?: number;
  /** The resource whose namespace/name keys this controller reconciles: a failed key gets a FailedSync event on it. */
  readonly primary?: ResourceName;
}

/**
 * A token bucket (rate per second, burst) on the injected clock: `take()` returns 0 when a token was
 * taken, else the ms to wait before trying again.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }

  take(): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) / this.rate) * 1000);
  }
}
