/**
 * The shared controller runner. A Reconciler is level-triggered: it gets a key, re-reads state and
 * makes the world match. Contract of `reconcile(key, signal)`:
 *   - resolves `{}`: done, forget the key's failures;
 *   - resolves `{ requeueAfter: ms }`: done, come back later;
 *   - throws TerminalError: record it, do not retry;
 *   - throws anything else: retry with per-key exponential backoff.
 * The runner, not each controller, turns those outcomes into queue operations.
 */
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import { TerminalError } from './errors.js';
import { WorkQueue } from './workqueue.js';
import type { Clock } from './clock.js';

export interface Result {
  requeueAfter?: number;
}

export interface Reconciler {
  readonly name: string;
  reconcile(key: string, signal: AbortSignal): Promise<Result | void>;
}

export interface RunnerOptions {
  workers?: number;
  logger: Logger;
  registry?: Registry;
  clock?: Clock;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

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
    signal.addEventListener('abort', () => this.queue.shutDown(), { once: true });
    const n = this.opts.workers ?? 2;
    await Promise.all(Array.from({ length: n }, () => this.worker(signal)));
  }

  private async worker(signal: AbortSignal): Promise<void> {
    const { total, duration } = metricsFor(this.opts.registry);
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
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
        } else {
          result = 'error';
          const delay = this.queue.addRateLimited(key);
          this.log.warn({ key, err: err instanceof Error ? err.message : String(err), retryInMs: delay }, 'reconcile failed; will retry');
        }
      } finally {
        this.queue.done(key);
        total?.inc({ controller: this.reconciler.name, result });
        duration?.observe({ controller: this.reconciler.name }, (performance.now() - start) / 1000);
      }
    }
  }
}
