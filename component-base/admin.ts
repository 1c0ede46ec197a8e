/**
 * The admin HTTP endpoint every component serves: `/healthz`, `/readyz` and `/metrics` (prom-client),
 * and the liveness registry its long-running loops report into, so that a loop that died or stopped
 * turning makes /healthz fail and Docker (or a person) restarts the process.
 */
import { createServer, type Server } from 'node:http';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { realClock, type Clock } from './clock.js';

/** How many periods a busy loop may go without turning before /healthz fails (kubelet's PLEG uses 3 minutes). */
export const DEFAULT_MISSED_PERIODS = 3;

export interface LoopOptions {
  /** How often the loop turns when it has work (ms). */
  periodMs: number;
  /** Periods without a turn, while busy, before the loop counts as stuck. */
  missedPeriods?: number;
}

/**
 * One loop's report: `beat()` each turn, `idle()` before blocking on new work (an idle loop is healthy
 * however long it waits), `died(err)` when it ended on an error, `stop()` when it ended on purpose.
 */
export class LoopHandle {
  private lastBeat: number;
  private waiting = false;
  private failure?: string;
  private ended = false;

  constructor(
    readonly name: string,
    private readonly opts: LoopOptions,
    private readonly clock: Clock,
    private readonly onStop: (h: LoopHandle) => void,
  ) {
    this.lastBeat = clock.now();
  }

  beat(): void {
    this.waiting = false;
    this.lastBeat = this.clock.now();
  }

  idle(): void {
    this.waiting = true;
    this.lastBeat = this.clock.now();
  }

  died(err: unknown): void {
    this.failure = err instanceof Error ? err.message : String(err);
  }

  stop(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.failure === undefined) this.onStop(this);
  }

  /** True when healthy, else why not. */
  check(): true | string {
    if (this.failure !== undefined) return `loop ${this.name} died: ${this.failure}`;
    if (this.waiting) return true;
    const age = this.clock.now() - this.lastBeat;
    const limit = this.opts.periodMs * (this.opts.missedPeriods ?? DEFAULT_MISSED_PERIODS);
    return age > limit ? `loop ${this.name} has not turned for ${Math.round(age / 1000)}s (limit ${Math.round(limit / 1000)}s)` : true;
  }
}

/** The long-running loops of one process; `check()` is what /healthz reports. */
export class Liveness {
  private readonly loops = new Set<LoopHandle>();
  private readonly clock: Clock;

  constructor(clock?: Clock) {
    this.clock = clock ?? realClock;
  }

  /** Registers a loop; it counts until it calls `stop()` (a loop that `died` keeps failing the check). */
  register(name: string, opts: LoopOptions): LoopHandle {
    const h = new LoopHandle(name, opts, this.clock, (x) => this.loops.delete(x));
    this.loops.add(h);
    return h;
  }

  /**
   * Runs `loop` under a handle: a rejection that is not the signal's abort marks the loop dead (and is
   * rethrown); any end unregisters it otherwise.
   */
  async track<T>(name: string, opts: LoopOptions, signal: AbortSignal, loop: (h: LoopHandle) => Promise<T>): Promise<T> {
    const h = this.register(name, opts);
    try {
      return await loop(h);
    } catch (err) {
      if (!signal.aborted) h.died(err);
      throw err;
    } finally {
      h.stop();
    }
  }

  check(): true | string {
    const bad: string[] = [];
    for (const h of this.loops) {
      const r = h.check();
      if (r !== true) bad.push(r);
    }
    return bad.length === 0 ? true : bad.join('; ');
  }
}

/** Both checks must pass; the first failure is the reason. */
export function allHealthy(...checks: (() => true | string)[]): () => true | string {
  return () => {
    for (const c of checks) {
      const r = c();
      if (r !== true) return r;
    }
    return true;
  };
}

export interface AdminOptions {
  port: number;
  host?: string;
  /** Reports health; a string is the reason it is unhealthy. */
  healthy?: () => true | string;
  ready?: () => true | string;
  registry?: Registry;
  /**
   * Extra read-only GET endpoints by exact path (e.g. the scheduler's `/debug/attempts`): each answers
   * JSON from the query string; a thrown error is a 500 naming it, and never stops the server.
   */
  routes?: Record<string, (query: URLSearchParams) => { status: number; body: unknown }>;
}

export interface AdminServer {
  readonly port: number;
  readonly registry: Registry;
  close(): Promise<void>;
}

export function newMetricsRegistry(component: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ component });
  collectDefaultMetrics({ register: registry });
  return registry;
}

export async function startAdminServer(opts: AdminOptions): Promise<AdminServer> {
  const registry = opts.registry ?? new Registry();
  const check = (fn?: () => true | string): [number, string] => {
    const r = fn ? fn() : true;
    return r === true ? [200, 'ok'] : [503, r];
  };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' || path === '/livez') {
      const [code, body] = check(opts.healthy);
      res.writeHead(code, { 'content-type': 'text/plain' }).end(body);
    } else if (path === '/readyz') {
      const [code, body] = check(opts.ready ?? opts.healthy);
      res.writeHead(code, { 'content-type': 'text/plain' }).end(body);
    } else if (path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    } else if (path !== undefined && opts.routes && Object.hasOwn(opts.routes, path)) {
      const route = opts.routes[path];
      try {
        const r = route(new URL(req.url ?? '/', 'http://admin').searchParams);
        res.writeHead(r.status, { 'content-type': 'application/json' }).end(JSON.stringify(r.body));
      } catch (err) {
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: err instanceof Error ? err.message : String(err) }));
      }
    } else {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    port,
    registry,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
