/**
 * An open-loop HTTP load generator (`kubelab load`, the ingress tests and bench/ingress.ts): request i is
 * sent at start + i/rps whatever the earlier ones are doing (up to `concurrency` in flight), so a slow
 * server shows up as latency and errors rather than as a lower request rate. Latency is measured from the
 * scheduled send time, so time spent waiting for a free slot counts (no coordinated omission).
 */
import http from 'node:http';
import https from 'node:https';

export interface LoadOptions {
  url: string;
  /** Requests per second (0: as fast as `concurrency` allows, closed loop). */
  rps: number;
  /** Stop sending after this long (ms) … */
  durationMs?: number;
  /** … or after this many requests, whichever comes first. */
  requests?: number;
  /** Most requests in flight at once. Default 64. */
  concurrency?: number;
  /** Host header (virtual host routing through an Ingress). */
  host?: string;
  /** Per-request timeout (ms). Default 10 s. */
  timeoutMs?: number;
  /** Reuse connections (HTTP keep-alive). Default true. */
  keepAlive?: boolean;
  /** Accept any TLS certificate (https URLs). */
  insecure?: boolean;
  /** Called about every `progressMs` with the results so far. */
  onProgress?: (r: LoadResult) => void;
  progressMs?: number;
  signal?: AbortSignal;
}

export interface LoadResult {
  sent: number;
  done: number;
  /** Responses by HTTP status code. */
  statuses: Record<string, number>;
  /** Requests that got no response, by error code (ECONNREFUSED, ECONNRESET, timeout …). */
  errors: Record<string, number>;
  elapsedMs: number;
  /** Latency percentiles of the completed requests, ms. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Thrown for invalid load options; the message names the option. */
export class LoadOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoadOptionsError';
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
}

export function validateLoadOptions(o: LoadOptions): URL {
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    throw new LoadOptionsError(`URL: "${o.url}" is not a URL (e.g. http://localhost:8081/)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new LoadOptionsError(`URL: "${o.url}" must be http:// or https://`);
  if (!Number.isFinite(o.rps) || o.rps < 0 || o.rps > 100_000) throw new LoadOptionsError(`--rps: must be a number from 0 to 100000 (got ${o.rps})`);
  if (o.durationMs === undefined && o.requests === undefined) throw new LoadOptionsError('--duration or --requests: one of them must be given');
  if (o.durationMs !== undefined && (!Number.isFinite(o.durationMs) || o.durationMs <= 0)) throw new LoadOptionsError(`--duration: must be positive (got ${o.durationMs} ms)`);
  if (o.requests !== undefined && (!Number.isInteger(o.requests) || o.requests <= 0)) throw new LoadOptionsError(`--requests: must be a positive integer (got ${o.requests})`);
  const c = o.concurrency ?? 64;
  if (!Number.isInteger(c) || c < 1 || c > 10_000) throw new LoadOptionsError(`--concurrency: must be an integer from 1 to 10000 (got ${c})`);
  if (o.host !== undefined && !/^[A-Za-z0-9.-]+(:\d+)?$/.test(o.host)) throw new LoadOptionsError(`--host: "${o.host}" is not a host name`);
  return url;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const url = validateLoadOptions(o);
  const concurrency = o.concurrency ?? 64;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const keepAlive = o.keepAlive ?? true;
  const isHttps = url.protocol === 'https:';
  const agent = isHttps
    ? new https.Agent({ keepAlive, maxSockets: concurrency, rejectUnauthorized: !o.insecure, ...(o.host ? { servername: o.host.split(':')[0] } : {}) })
    : new http.Agent({ keepAlive, maxSockets: concurrency });
  const statuses: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const latencies: number[] = [];
  let sent = 0;
  let done = 0;
  let inFlight = 0;
  const t0 = performance.now();
  const snapshot = (): LoadResult => {
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      sent,
      done,
      statuses: { ...statuses },
      errors: { ...errors },
      elapsedMs: performance.now() - t0,
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      max: sorted[sorted.length - 1] ?? 0,
    };
  };
  let wake: (() => void) | undefined;
  const slotFreed = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const one = (scheduledAt: number): Promise<void> =>
    new Promise((resolve) => {
      const finish = (key: { status?: number; error?: string }): void => {
        if (key.status !== undefined) {
          statuses[key.status] = (statuses[key.status] ?? 0) + 1;
          latencies.push(performance.now() - scheduledAt);
        } else if (key.error) errors[key.error] = (errors[key.error] ?? 0) + 1;
        done++;
        inFlight--;
        slotFreed();
        resolve();
      };
      const req = (isHttps ? https : http).request(url, {
        agent,
        method: 'GET',
        headers: { ...(o.host ? { host: o.host } : {}), ...(keepAlive ? {} : { connection: 'close' }) },
        timeout: timeoutMs,
      });
      req.on('response', (res) => {
        res.on('data', () => undefined);
        res.on('end', () => finish({ status: res.statusCode ?? 0 }));
        res.on('error', (err: NodeJS.ErrnoException) => finish({ error: err.code ?? err.message }));
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
      req.on('error', (err: NodeJS.ErrnoException) => finish({ error: err.code ?? err.message }));
      req.end();
    });

  const progressMs = o.progressMs ?? 1000;
  const timer = o.onProgress ? setInterval(() => o.onProgress?.(snapshot()), progressMs) : undefined;
  const pending = new Set<Promise<void>>();
  const endAt = o.durationMs !== undefined ? t0 + o.durationMs : Infinity;
  const maxRequests = o.requests ?? Infinity;
  try {
    while (sent < maxRequests && !o.signal?.aborted) {
      const scheduledAt = o.rps > 0 ? t0 + (sent * 1000) / o.rps : performance.now();
      if (scheduledAt >= endAt) break;
      const wait = scheduledAt - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      while (inFlight >= concurrency) await new Promise<void>((r) => (wake = r));
      if (performance.now() >= endAt) break;
      inFlight++;
      sent++;
      // Open loop: latency counts from the scheduled time (a late send is the server's delay too), but never from
      // before the real send — a request sent up to 1 ms early (the sleep is skipped under 1 ms) measured negative.
      const p = one(o.rps > 0 ? Math.min(scheduledAt, performance.now()) : performance.now());
      pending.add(p);
      void p.then(() => pending.delete(p));
    }
    await Promise.all(pending);
  } finally {
    if (timer) clearInterval(timer);
    agent.destroy();
  }
  return snapshot();
}

/** `200: 990, 503: 10; ECONNRESET: 1` */
export function formatCounts(r: Pick<LoadResult, 'statuses' | 'errors'>): string {
  const s = Object.entries(r.statuses).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}: ${v}`).join(', ');
  const e = Object.entries(r.errors).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}: ${v}`).join(', ');
  return [s || 'no responses', e].filter(Boolean).join('; ');
}
