/**
 * The scheduling queue, as kube-scheduler's: an active heap ordered by priority (higher first) then by the
 * time the pod entered the queue; a backoff queue of pods that failed recently (1 s doubling to 10 s); and
 * an unschedulable set of pods that fit nowhere, moved back when the cluster changes in a way that could
 * make them fit (`moveAllToActive`: node added/changed, pod deleted) or after `maxUnschedulableMs`.
 * Entries are keys: the scheduler re-reads the pod when it pops one (level-triggered).
 */
import { realClock, type Clock } from '../component-base/clock.js';

export interface QueueOptions {
  clock?: Clock;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Unschedulable pods are retried at least this often even if nothing changed. */
  maxUnschedulableMs?: number;
}

type Where = 'active' | 'backoff' | 'unschedulable' | 'inflight';

export interface QueuedPod {
  readonly key: string;
  priority: number;
  /** When the pod first entered the queue (ms); the e2e latency starts here. */
  readonly firstSeen: number;
  /** When the pod entered its current place in the queue (active order, unschedulable timeout). */
  since: number;
  seq: number;
  attempts: number;
  where: Where;
  /** The scheduling cycle in which the pod was popped. */
  cycle: number;
  /** The pod changed while it was being scheduled: a failure goes straight back to active. */
  updatedInFlight: boolean;
}

export class SchedulingQueue {
  private readonly entries = new Map<string, QueuedPod>();
  private readonly heap: QueuedPod[] = [];
  private waiters: ((e: QueuedPod | undefined) => void)[] = [];
  private readonly clock: Clock;
  private readonly initialBackoff: number;
  private readonly maxBackoff: number;
  private readonly maxUnschedulable: number;
  private seq = 0;
  private closed = false;
  /** Bumped on every pop; a move request records the cycle it happened in. */
  schedulingCycle = 0;
  private moveRequestCycle = -1;

  constructor(opts: QueueOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.initialBackoff = opts.initialBackoffMs ?? 1000;
    this.maxBackoff = opts.maxBackoffMs ?? 10_000;
    this.maxUnschedulable = opts.maxUnschedulableMs ?? 5 * 60_000;
  }

  /** Pods waiting in each part of the queue (for metrics and tests). */
  counts(): Record<Where, number> {
    const c: Record<Where, number> = { active: 0, backoff: 0, unschedulable: 0, inflight: 0 };
    for (const e of this.entries.values()) c[e.where]++;
    return c;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * A pod that needs scheduling was added or changed. New pods go to active; a changed pod waiting as
   * unschedulable goes back to active (its change may make it fit); a pod in flight is flagged.
   */
  add(key: string, priority: number): void {
    if (this.closed) return;
    const e = this.entries.get(key);
    if (!e) {
      const now = this.clock.now();
      const entry: QueuedPod = { key, priority, firstSeen: now, since: now, seq: this.seq++, attempts: 0, where: 'active', cycle: 0, updatedInFlight: false };
      this.entries.set(key, entry);
      this.pushActive(entry);
      return;
    }
    if (e.where === 'active' && e.priority !== priority) {
      // The heap orders by priority: re-insert a copy rather than mutate a slot in place.
      const copy: QueuedPod = { ...e, priority };
      this.entries.set(key, copy);
      this.pushActive(copy);
      return;
    }
    e.priority = priority;
    if (e.where === 'inflight') e.updatedInFlight = true;
    else if (e.where === 'unschedulable') this.activate(e);
  }

  /** The pod was bound, deleted, or is no longer ours. */
  delete(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    e.where = 'inflight'; // makes any stale heap slot inert
  }

  /** Next pod to schedule (highest priority, oldest), waiting if none; undefined once closed. */
  pop(): Promise<QueuedPod | undefined> {
    const e = this.popActive();
    if (e) return Promise.resolve(e);
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Non-blocking pop. */
  tryPop(): QueuedPod | undefined {
    return this.popActive();
  }

  /** Scheduling failed because no node fits. Retried on a cluster change (or after backoff if one already happened). */
  requeueUnschedulable(e: QueuedPod): void {
    if (this.entries.get(e.key) !== e) return;
    e.attempts++;
    if (e.updatedInFlight) {
      e.updatedInFlight = false;
      this.activate(e);
    } else if (this.moveRequestCycle >= e.cycle) {
      e.where = 'backoff';
      e.since = this.clock.now();
    } else {
      e.where = 'unschedulable';
      e.since = this.clock.now();
    }
  }

  /** Scheduling failed for a transient reason (API error, failed bind): retry after backoff. */
  requeueBackoff(e: QueuedPod): void {
    if (this.entries.get(e.key) !== e) return;
    e.attempts++;
    e.updatedInFlight = false;
    e.where = 'backoff';
    e.since = this.clock.now();
  }

  /** The pod was scheduled (or dropped); forget it. */
  done(e: QueuedPod): void {
    if (this.entries.get(e.key) === e) this.entries.delete(e.key);
  }

  backoffMs(e: QueuedPod): number {
    return Math.min(this.initialBackoff * 2 ** Math.max(0, e.attempts - 1), this.maxBackoff);
  }

  /** Something changed that could make unschedulable pods fit: move them to active (or backoff). */
  moveAllToActive(): void {
    const now = this.clock.now();
    for (const e of this.entries.values()) {
      if (e.where !== 'unschedulable') continue;
      if (e.since + this.backoffMs(e) <= now) this.activate(e);
      else e.where = 'backoff';
    }
    this.moveRequestCycle = this.schedulingCycle;
  }

  /** Like `moveAllToActive`, for the given pods only (those a cluster change may have helped). */
  moveToActive(keys: Iterable<string>): void {
    const now = this.clock.now();
    for (const key of keys) {
      const e = this.entries.get(key);
      if (!e || e.where !== 'unschedulable') continue;
      if (e.since + this.backoffMs(e) <= now) this.activate(e);
      else e.where = 'backoff';
    }
  }

  /** Moves pods whose backoff expired, and pods unschedulable for too long, to active. Call about once a second. */
  flush(): void {
    const now = this.clock.now();
    for (const e of this.entries.values()) {
      if (e.where === 'backoff' && e.since + this.backoffMs(e) <= now) this.activate(e);
      else if (e.where === 'unschedulable' && e.since + this.maxUnschedulable <= now) this.activate(e);
    }
  }

  /** Runs `flush` every second until the signal aborts. */
  async runFlusher(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.clock.sleep(1000, signal);
      } catch {
        return;
      }
      this.flush();
    }
  }

  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  private activate(e: QueuedPod): void {
    e.since = this.clock.now();
    e.seq = this.seq++;
    this.pushActive(e);
  }

  private pushActive(e: QueuedPod): void {
    e.where = 'active';
    const w = this.waiters.shift();
    if (w) {
      this.markPopped(e);
      w(e);
      return;
    }
    this.heap.push(e);
    this.siftUp(this.heap.length - 1);
  }

  private markPopped(e: QueuedPod): void {
    e.where = 'inflight';
    e.cycle = ++this.schedulingCycle;
  }

  private popActive(): QueuedPod | undefined {
    while (this.heap.length > 0) {
      const top = this.heap[0];
      const last = this.heap.pop() as QueuedPod;
      if (this.heap.length > 0) {
        this.heap[0] = last;
        this.siftDown(0);
      }
      // Lazy deletion: a slot is live only if its entry is still the queued one and still active.
      if (this.entries.get(top.key) === top && top.where === 'active') {
        this.markPopped(top);
        return top;
      }
    }
    return undefined;
  }

  private less(a: QueuedPod, b: QueuedPod): boolean {
    if (a.priority !== b.priority) return a.priority > b.priority;
    return a.seq < b.seq;
  }

  private siftUp(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private siftDown(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l], h[m])) m = l;
      if (r < h.length && this.less(h[r], h[m])) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}
