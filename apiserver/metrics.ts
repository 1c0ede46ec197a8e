/**
 * The apiserver's own metrics on its admin port's /metrics, named as kube-apiserver's so that the same queries
 * work: requests by verb, resource and code with their latency, what flow control holds (executing, waiting,
 * refused) and how many objects each resource has. The registry reports each request through `observe`.
 */
import { Counter, Gauge, Histogram, type Registry as PromRegistry } from 'prom-client';
import { ApiError } from '../api/errors.js';
import type { MutatingFlowControl } from './flowcontrol.js';

export type RequestVerb = 'GET' | 'LIST' | 'WATCH' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** The HTTP code a request ended with: 200/201 on success, the API error's code, 500 for anything else. */
export function codeOf(verb: RequestVerb, err: unknown): string {
  if (err === undefined) return verb === 'POST' ? '201' : '200';
  return String(err instanceof ApiError ? err.code : 500);
}

export class ApiserverMetrics {
  private readonly requests: Counter<'verb' | 'resource' | 'subresource' | 'code'>;
  private readonly duration: Histogram<'verb' | 'resource'>;

  constructor(registry: PromRegistry, flow: MutatingFlowControl, objectCounts: () => Map<string, number>) {
    this.requests = new Counter({
      name: 'apiserver_request_total',
      help: 'Requests served, by verb, resource, subresource and HTTP code.',
      labelNames: ['verb', 'resource', 'subresource', 'code'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'apiserver_request_duration_seconds',
      help: 'Time to serve a request (to its first byte for a WATCH), by verb and resource.',
      labelNames: ['verb', 'resource'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    });
    new Gauge({
      name: 'apiserver_flowcontrol_current_executing_requests',
      help: "Clients' mutating requests holding a seat now (Lease writes and the apiserver's own never take one).",
      registers: [registry],
      collect() {
        this.set(flow.inFlight);
      },
    });
    new Gauge({
      name: 'apiserver_flowcontrol_current_inqueue_requests',
      help: 'Mutating requests waiting for a seat now.',
      registers: [registry],
      collect() {
        this.set(flow.waiting);
      },
    });
    new Gauge({
      name: 'apiserver_flowcontrol_request_concurrency_limit',
      help: 'Seats for clients’ mutating requests (--max-mutating-requests-inflight; 0: no limit).',
      registers: [registry],
      collect() {
        this.set(flow.seats);
      },
    });
    new Counter({
      name: 'apiserver_flowcontrol_rejected_requests_total',
      help: 'Mutating requests refused with 429 TooManyRequests (queue full, or waited too long for a seat).',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(flow.stats.rejected);
      },
    });
    new Counter({
      name: 'apiserver_flowcontrol_queued_requests_total',
      help: 'Mutating requests that had to wait for a seat.',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(flow.stats.queued);
      },
    });
    new Gauge({
      name: 'apiserver_storage_objects',
      help: 'Objects stored, by resource (from the watch cache).',
      labelNames: ['resource'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [resource, n] of objectCounts()) this.set({ resource }, n);
      },
    });
  }

  /** Records one request that started at `startMs` (performance.now()) and ended now with `err` or not. */
  observe(verb: RequestVerb, resource: string, subresource: string, startMs: number, err?: unknown): void {
    this.requests.inc({ verb, resource, subresource, code: codeOf(verb, err) });
    this.duration.observe({ verb, resource }, (performance.now() - startMs) / 1000);
  }
}
