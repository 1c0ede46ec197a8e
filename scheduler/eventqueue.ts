/**
 * A bounded background queue for low-value writes (the per-pod "Scheduled" events): a few in flight at a
 * time, so a burst of bindings is not slowed down by as many event writes competing for the apiserver,
 * and dropped beyond `maxQueued` — events are best effort, as client-go's broadcaster drops them when full.
 */
export interface BackgroundQueueOptions {
  concurrency: number;
  maxQueued: number;
  onDrop?: () => void;
}

export class BackgroundQueue {
  private readonly jobs: (() => Promise<void>)[] = [];
  private running = 0;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: BackgroundQueueOptions) {}

  get pending(): number {
    return this.jobs.length + this.running;
  }

  /** Queues a job; returns false (and drops it) when the queue is full. Jobs must not throw. */
  push(job: () => Promise<void>): boolean {
    if (this.jobs.length >= this.opts.maxQueued) {
      this.opts.onDrop?.();
      return false;
    }
    this.jobs.push(job);
    this.pump();
    return true;
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.running < this.opts.concurrency && this.jobs.length > 0) {
      const job = this.jobs.shift() as () => Promise<void>;
      this.running++;
      job()
        .catch(() => undefined)
        .finally(() => {
          this.running--;
          this.pump();
          if (this.pending === 0) for (const w of this.idleWaiters.splice(0)) w();
        });
    }
  }
}
