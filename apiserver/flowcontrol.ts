/**
 * The part of Kubernetes' API Priority and Fairness that keeps a cluster alive under a write storm: clients'
 * mutating requests share a bounded number of seats (`--max-mutating-requests-inflight`, 200 by default as in
 * kube-apiserver); the rest wait in one FIFO queue and are refused with 429 TooManyRequests (retry after 1 s) when
 * the queue is full or a request has waited too long. Lease writes — leader election and node heartbeats, the
 * `leader-election` and `node-high` priority levels of Kubernetes' default configuration — and the apiserver's own
 * writes never wait for a seat: a burst of 30,000 pod creations must not starve the scheduler's lease renewal
 * (it lost leadership in bench/scale.ts before this) or make nodes look dead.
 * Not modelled: per-user flows and shuffle sharding, the read-only limit, FlowSchema/PriorityLevelConfiguration
 * objects (docs/robustness.md).
 */
import { ApiError } from '../api/errors.js';

export interface FlowControlOptions {
  /** Seats for mutating requests of clients at once; 0 turns the limit off. */
  maxMutatingInflight: number;
  /** Requests that may wait for a seat; more are refused at once. Default 10 × the seats. */
  maxQueued?: number;
  /** Longest wait for a seat before a 429. Default 15 s (a quarter of kube-apiserver's 60 s request timeout). */
  queueTimeoutMs?: number;
}

/** Writes that never wait for a seat: the apiserver's own (no user), and Leases (leader election, node heartbeats). */
export function exemptFromQueue(resource: string, user: unknown): boolean {
  return user === undefined || resource === 'leases';
}

function tooManyRequests(why: string): ApiError {
  return new ApiError('TooManyRequests', `Too many requests: ${why}; please try again later`, { retryAfterSeconds: 1 });
}

interface Waiter {
  grant(): void;
  timer: NodeJS.Timeout;
}

export class MutatingFlowControl {
  private inflight = 0;
  private readonly queue: Waiter[] = [];
  private readonly maxQueued: number;
  private readonly queueTimeoutMs: number;
  /** Counters for /metrics and tests. */
  readonly stats = { queued: 0, rejected: 0, peakQueue: 0 };

  constructor(private readonly opts: FlowControlOptions) {
    this.maxQueued = opts.maxQueued ?? opts.maxMutatingInflight * 10;
    this.queueTimeoutMs = opts.queueTimeoutMs ?? 15_000;
  }

  /** Seats for clients' mutating requests (0: no limit). */
  get seats(): number {
    return this.opts.maxMutatingInflight;
  }

  get inFlight(): number {
    return this.inflight;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** Runs a mutating request: at once when exempt or a seat is free, else after waiting its turn (or a 429). */
  async run<T>(resource: string, user: unknown, fn: () => Promise<T>): Promise<T> {
    if (this.opts.maxMutatingInflight <= 0 || exemptFromQueue(resource, user)) return fn();
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.inflight < this.opts.maxMutatingInflight) {
      this.inflight++;
      return Promise.resolve();
    }
    if (this.queue.length >= this.maxQueued) {
      this.stats.rejected++;
      return Promise.reject(tooManyRequests(`${this.inflight} mutating requests in flight and ${this.queue.length} waiting`));
    }
    this.stats.queued++;
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          clearTimeout(waiter.timer);
          resolve();
        },
        timer: setTimeout(() => {
          const i = this.queue.indexOf(waiter);
          if (i >= 0) this.queue.splice(i, 1);
          this.stats.rejected++;
          reject(tooManyRequests(`waited ${this.queueTimeoutMs} ms for one of ${this.opts.maxMutatingInflight} mutating request seats`));
        }, this.queueTimeoutMs),
      };
      this.queue.push(waiter);
      this.stats.peakQueue = Math.max(this.stats.peakQueue, this.queue.length);
    });
  }

  private release(): void {
    const next = this.queue.shift();
    // The seat passes to the next waiter as it is: in-flight count unchanged.
    if (next) next.grant();
    else this.inflight--;
  }
}
