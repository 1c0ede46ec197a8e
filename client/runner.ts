/**
 * The shared controller runner. A Reconciler is level-triggered: it gets a key, re-reads state and
 * makes the world match. Contract of `reconcile(key, signal)`:
 *   - resolves `{}`: done, forget the key's failures;
 *   - resolves `{ requeueAfter: ms }`: done, come back later;
 *   - throws TerminalError: record it, do not retry;
 *   - throws anything else: retry with per-key exponential backoff.
 * The runner, not each controller, turns those outcomes into queue operations. An exception is contained
 * to its key: it is logged with the key, recorded as a FailedSync Warning event on the object (when the
 * reconciler names one), and the workers go on with the next key.
 */
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import { TerminalError } from '../api/errors.js';
import { WorkQueue } from './workqueue.js';
import type { Clock } from '../component-base/clock.js';
import type { Liveness } from '../component-base/admin.js';
import type { EventRecorder } from './events.js';
import type { KObject } from '../api/types.js';

export interface Result {
  requeueAfter?: number;
}

export interface Reconciler {
  readonly name: string;
  reconcile(key: string, signal: AbortSignal): Promise<Result | void>;
  /** The object a failed reconcile of `key` is reported on (a FailedSync event); undefined: none. */
  objectFor?(key: string): KObject | undefined;
}

export interface RunnerOptions {
  workers?: number;
  logger: Logger;
  registry?: Registry;
  clock?: Clock;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Each worker reports here: it fails /healthz when a reconcile runs longer than `stuckAfterMs`. */
  liveness?: Liveness;
  /** How long one reconcile may run before its worker counts as stuck (default 5 minutes). */
  stuckAfterMs?: number;
  /** Records FailedSync events on the objects whose reconcile failed. */
  recorder?: EventRecorder;
}

const DEFAULT_STUCK_AFTER_MS = 5 * 60_000;

const metricsCache = new WeakMap<Registry, { total: Counter<string>; duration: Histogram<string> }>();

function metricsFor(registry: Registry | undefined): { total?: Counter<string>; duration?: Histogram<string> } {
  if (!registry) return {};
  let m = metricsCache.get(registry);
  if (!m) {
    m = {
      total: new Counter({ name: 'kubelab_reconcile_total', help: 'Reconciles by controller and result', labelNames: ['controller', 'result'], registers: [registry] }),
      duration: new Histogram({ name: 'kubelab_reconcile_duration_seconds', help: 'Reconcile duration', labelNames: ['controller'], registers: [registry] }),
    };
    metricsCache.set(registry, m);
  }
  return m;
}

export class ControllerRunner {
  readonly queue: WorkQueue;
  private readonly log: Logger;

  constructor(
    private readonly reconciler: Reconciler,
    private readonly opts: RunnerOptions,
  ) {
    this.queue = new WorkQueue({ clock: opts.clock, baseDelayMs: opts.baseDelayMs ?? 100, maxDelayMs: opts.maxDelayMs ?? 60_000 });
    this.log = opts.logger.child({ controller: reconciler.name });
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  /** Runs workers until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    // A signal that aborted before run() (leadership lost during a controller's startup work) fires no
    // 'abort' event: without this check the workers would requeue forever and run() never return.
    if (signal.aborted) this.queue.shutDown();
    else signal.addEventListener('abort', () => this.queue.shutDown(), { once: true });
    const n = this.opts.workers ?? 2;
    const liveness = this.opts.liveness;
    const loop = { periodMs: this.opts.stuckAfterMs ?? DEFAULT_STUCK_AFTER_MS, missedPeriods: 1 };
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        liveness ? liveness.track(`${this.reconciler.name}/worker-${i}`, loop, signal, (h) => this.worker(signal, h)) : this.worker(signal),
      ),
    );
  }

  private async worker(signal: AbortSignal, beat?: { beat(): void; idle(): void }): Promise<void> {
    const { total, duration } = metricsFor(this.opts.registry);
    for (;;) {
      beat?.idle();
      const key = await this.queue.get();
      if (key === undefined) return;
      beat?.beat();
      const start = performance.now();
      let result = 'success';
      try {
        const res = await this.reconciler.reconcile(key, signal);
        this.queue.forget(key);
        if (res?.requeueAfter !== undefined) this.queue.addAfter(key, res.requeueAfter);
      } catch (err) {
        if (signal.aborted) {
          this.queue.done(key);
          return;
        }
        if (err instanceof TerminalError) {
          result = 'terminal';
          this.queue.forget(key);
          this.log.warn({ key, err: err.message }, 'reconcile failed permanently');
          this.reportFailure(key, err.message);
        } else {
          result = 'error';
          const delay = this.queue.addRateLimited(key);
          const message = err instanceof Error ? err.message : String(err);
          // A TypeError and its kind are a bug or a poison object: keep the stack for whoever debugs it.
          const stack = err instanceof Error && !(err as { reason?: unknown }).reason ? err.stack : undefined;
          this.log.warn({ key, err: message, stack, retryInMs: delay }, 'reconcile failed; will retry');
          this.reportFailure(key, message);
        }
      } finally {
        this.queue.done(key);
        total?.inc({ controller: this.reconciler.name, result });
        duration?.observe({ controller: this.reconciler.name }, (performance.now() - start) / 1000);
      }
    }
  }

  /** A FailedSync Warning on the key's object; the recorder aggregates repeats into one event's count. */
  private reportFailure(key: string, message: string): void {
    const recorder = this.opts.recorder;
    if (!recorder || !this.reconciler.objectFor) return;
    let obj: KObject | undefined;
    try {
      obj = this.reconciler.objectFor(key);
    } catch {
      return;
    }
    if (obj) recorder.event(obj, 'Warning', 'FailedSync', `Error syncing ${this.reconciler.name} ${key}: ${message}`);
  }
}
