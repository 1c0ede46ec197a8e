/**
 * Pod workers (Kubernetes' pod_workers.go): one worker per pod UID that runs the pod's sync with the
 * latest desired state. A request made while a sync runs only marks the worker to go again, so a burst of
 * updates costs one more sync, never a queue of stale ones; a failed sync is retried with back-off.
 */
import type { Clock } from '../component-base/clock.js';

/** A failed pod sync is retried after 1 s, doubling up to a minute (reset by a sync that succeeds). */
export const SYNC_RETRY_BASE_MS = 1000;
export const SYNC_RETRY_MAX_MS = 60_000;

/** Requeues closer than this are merged into one (a sync costs a runtime list). */
const MIN_REQUEUE_MS = 50;

interface Worker {
  busy: boolean;
  again: boolean;
  /**
   * Set when relists asked for a sync while one ran: the newest such relist's list time. A sync whose
   * own final list started later already saw what that relist saw, so it needs no repeat.
   */
  relistAt?: number;
}

export interface PodWorkersOptions {
  clock: Clock;
  /** Syncs one pod; a rejection is retried with back-off. */
  sync(uid: string): Promise<void>;
  /** Called after a failed sync with the delay before its retry (log it, record an event). */
  onFailure(uid: string, err: unknown, retryInMs: number): void;
  /** When the pod's own sync last listed its containers (performance.now()), see Worker.relistAt. */
  observedAt(uid: string): number | undefined;
  /** True while the pod is still desired: an idle worker of a pod that is gone is dropped. */
  isDesired(uid: string): boolean;
}

/** One worker per pod UID; `enqueue` never runs two syncs of one pod at once. */
export class PodWorkers {
  private readonly workers = new Map<string, Worker>();
  /** Pending `requeueAfter` timers, cancelled by a newer one or by `stop`. */
  private readonly requeues = new Map<string, AbortController>();
  /** Consecutive failed syncs per UID, for the retry back-off. */
  private readonly failures = new Map<string, number>();
  private readonly idleWaiters = new Set<() => void>();
  private stopped = false;

  constructor(private readonly o: PodWorkersOptions) {}

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

  /** Syncs the pod again after `ms` (replacing an earlier pending requeue of it). */
  requeueAfter(uid: string, ms: number): void {
    this.cancelRequeue(uid);
    const ctl = new AbortController();
    this.requeues.set(uid, ctl);
    this.o.clock.sleep(Math.max(MIN_REQUEUE_MS, ms), ctl.signal).then(
      () => {
        this.requeues.delete(uid);
        this.enqueue(uid);
      },
      () => undefined,
    );
  }

  cancelRequeue(uid: string): void {
    this.requeues.get(uid)?.abort();
    this.requeues.delete(uid);
  }

  /** True while a worker exists for the pod (syncing, or kept for a pod still desired). */
  has(uid: string): boolean {
    return this.workers.has(uid);
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** No sync starts after this; one in flight finishes (and must check `isStopped` before acting). */
  stop(): void {
    this.stopped = true;
    for (const ctl of this.requeues.values()) ctl.abort();
    this.requeues.clear();
  }

  /** Resolves once no worker is busy, or after `timeoutMs` (tests, shutdown). */
  idle(timeoutMs = 10_000): Promise<void> {
    if (!this.anyBusy()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.idleWaiters.delete(done);
        resolve();
      };
      // A real timer: this bounds a shutdown in wall time even when the kubelet runs on a fake clock.
      const timer = setTimeout(done, timeoutMs);
      this.idleWaiters.add(done);
    });
  }

  private anyBusy(): boolean {
    for (const w of this.workers.values()) if (w.busy) return true;
    return false;
  }

  private async work(uid: string, w: Worker): Promise<void> {
    do {
      w.again = false;
      w.relistAt = undefined;
      try {
        await this.o.sync(uid);
        this.failures.delete(uid);
      } catch (err) {
        if (this.stopped) break;
        // One pod's failure (a malformed spec, a runtime error) costs that pod only: retried with backoff.
        const n = this.failures.get(uid) ?? 0;
        this.failures.set(uid, n + 1);
        const delay = Math.min(SYNC_RETRY_BASE_MS * 2 ** n, SYNC_RETRY_MAX_MS);
        this.o.onFailure(uid, err, delay);
        this.requeueAfter(uid, delay);
      }
      if (w.relistAt !== undefined && !((this.o.observedAt(uid) ?? -Infinity) > w.relistAt)) w.again = true;
    } while (w.again && !this.stopped);
    w.relistAt = undefined;
    w.busy = false;
    if (!this.o.isDesired(uid) && !w.again) {
      this.workers.delete(uid);
      this.failures.delete(uid);
    }
    if (this.idleWaiters.size > 0 && !this.anyBusy()) for (const done of [...this.idleWaiters]) done();
  }
}
