/**
 * The part of Kubernetes' API Priority and Fairness that keeps a cluster alive and fair under a write storm:
 * clients' mutating requests share a bounded number of seats (`--max-mutating-requests-inflight`: 50 by default,
 * kube-apiserver's 200 being sized for many cores); the rest wait in a queue per flow — the requesting user, APF's
 * `ByUser` distinguisher — and a freed seat goes to the flows in turn (round robin: fair queuing with every request costing one seat), so
 * one client's burst of thousands of writes does not set another client's latency. A flow may hold at most three
 * quarters of the waiting places, so another flow always finds room. A full queue, or a wait too long, is refused
 * with 429 TooManyRequests (retry after 1 s). Lease writes — leader election and node heartbeats, the
 * `leader-election` and `node-high` priority levels of Kubernetes' default configuration — and the apiserver's own
 * writes never wait for a seat: a burst of 30,000 pod creations must not starve the scheduler's lease renewal
 * (it lost leadership in bench/scale.ts before this) or make nodes look dead.
 * Not modelled: priority levels and their shares, shuffle sharding of flows onto a fixed set of queues, the
 * read-only limit, FlowSchema/PriorityLevelConfiguration objects (docs/robustness.md).
 */
import { ApiError } from '../api/errors.js';
import type { UserInfo } from './auth/user.js';

/** The fewest requests that wait for a seat by default (10 × kube-apiserver's 200 seats). */
const MIN_DEFAULT_QUEUED = 2_000;

export interface FlowControlOptions {
  /** Seats for mutating requests of clients at once; 0 turns the limit off. */
  maxMutatingInflight: number;
  /**
   * Requests that may wait for a seat, all flows together; more are refused at once. Default 10 × the seats, at least
   * 2,000 (what Kubernetes' 200 seats gave): fewer seats make each write quicker, not the queue shorter.
   */
  maxQueued?: number;
  /** Requests one flow (user) may have waiting. Default three quarters of maxQueued (at least 1). */
  maxQueuedPerFlow?: number;
  /** Longest wait for a seat before a 429. Default 15 s (a quarter of kube-apiserver's 60 s request timeout). */
  queueTimeoutMs?: number;
}

/** Writes that never wait for a seat: the apiserver's own (no user), and Leases (leader election, node heartbeats). */
export function exemptFromQueue(resource: string, user: UserInfo | undefined): boolean {
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
  /** Each flow's waiting requests, oldest first; the map's order is the round robin (a served flow goes last). */
  private readonly flows = new Map<string, Waiter[]>();
  private queued = 0;
  private readonly maxQueued: number;
  private readonly maxQueuedPerFlow: number;
  private readonly queueTimeoutMs: number;
  /** Counters for /metrics and tests. */
  readonly stats = { queued: 0, rejected: 0, peakQueue: 0 };

  constructor(private readonly opts: FlowControlOptions) {
    this.maxQueued = opts.maxQueued ?? Math.max(MIN_DEFAULT_QUEUED, opts.maxMutatingInflight * 10);
    this.maxQueuedPerFlow = opts.maxQueuedPerFlow ?? Math.max(1, Math.floor((this.maxQueued * 3) / 4));
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
    return this.queued;
  }

  /** Flows (users) with a request waiting. */
  get waitingFlows(): number {
    return this.flows.size;
  }

  /** Runs a mutating request: at once when exempt or a seat is free, else after its flow's turn (or a 429). */
  async run<T>(resource: string, user: UserInfo | undefined, fn: () => Promise<T>): Promise<T> {
    if (this.opts.maxMutatingInflight <= 0 || exemptFromQueue(resource, user)) return fn();
    await this.acquire(user?.name ?? '');
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  private acquire(flow: string): Promise<void> {
    if (this.inflight < this.opts.maxMutatingInflight) {
      this.inflight++;
      return Promise.resolve();
    }
    const queue = this.flows.get(flow) ?? [];
    if (this.queued >= this.maxQueued || queue.length >= this.maxQueuedPerFlow) {
      this.stats.rejected++;
      return Promise.reject(
        tooManyRequests(`${this.inflight} mutating requests in flight and ${this.queued} waiting (${queue.length} of them from this user)`),
      );
    }
    this.stats.queued++;
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          clearTimeout(waiter.timer);
          resolve();
        },
        timer: setTimeout(() => {
          this.remove(flow, waiter);
          this.stats.rejected++;
          reject(tooManyRequests(`waited ${this.queueTimeoutMs} ms for one of ${this.opts.maxMutatingInflight} mutating request seats`));
        }, this.queueTimeoutMs),
      };
      if (queue.length === 0) this.flows.set(flow, queue);
      queue.push(waiter);
      this.queued++;
      this.stats.peakQueue = Math.max(this.stats.peakQueue, this.queued);
    });
  }

  private remove(flow: string, waiter: Waiter): void {
    const queue = this.flows.get(flow);
    const i = queue ? queue.indexOf(waiter) : -1;
    if (!queue || i < 0) return;
    queue.splice(i, 1);
    this.queued--;
    if (queue.length === 0) this.flows.delete(flow);
  }

  private release(): void {
    // The next flow in turn gets the seat as it is (in-flight count unchanged) and goes to the back of the turn.
    const next = this.flows.entries().next();
    if (next.done) {
      this.inflight--;
      return;
    }
    const [flow, queue] = next.value;
    const waiter = queue.shift() as Waiter;
    this.queued--;
    this.flows.delete(flow);
    if (queue.length > 0) this.flows.set(flow, queue);
    waiter.grant();
  }
}
