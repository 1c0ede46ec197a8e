/**
 * Probes (startup, liveness, readiness) and lifecycle-hook handlers. One probe worker per running
 * container; results are kept per container id and a change asks for a pod sync. Startup gates the other
 * two; readiness starts false, liveness starts true, as in Kubernetes.
 */
import { connect } from 'node:net';
import type { Logger } from 'pino';
import { timerMs, realClock, type Clock } from '../component-base/clock.js';
import type { core } from '../api/types.js';
import type { Runtime, RuntimeContainer } from './runtime/types.js';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';

export interface ProbeTarget {
  runtime: Runtime;
  containerId: string;
  container: core.Container;
  /** Address for httpGet/tcpSocket (the pod IP, or the node IP for hostNetwork pods). */
  host: string;
}

function resolvePort(port: number | string, c: core.Container): number {
  if (typeof port === 'number') return port;
  const named = c.ports?.find((p) => p.name === port);
  if (named) return named.containerPort;
  const n = Number(port);
  if (Number.isInteger(n)) return n;
  throw new Error(`port "${port}" is not a number or a named port of the container`);
}

/** Runs one probe-like handler (probe or lifecycle hook); resolves true on success, with a message on failure. */
export async function runHandler(
  h: { exec?: core.ExecAction; httpGet?: core.HTTPGetAction; tcpSocket?: core.TCPSocketAction },
  t: ProbeTarget,
  requestedMs: number,
): Promise<{ ok: boolean; message: string }> {
  // timeoutSeconds comes from the pod: 2^31 s must not turn into a timer that fires at once (or a RangeError).
  const timeoutMs = timerMs(requestedMs);
  try {
    if (h.exec) {
      const r = await t.runtime.exec(t.containerId, [...(h.exec.command ?? [])], timeoutMs);
      return { ok: r.exitCode === 0, message: r.exitCode === 0 ? '' : `command exited with ${r.exitCode}: ${r.output.trim().slice(0, 200)}` };
    }
    if (h.httpGet) {
      const g = h.httpGet;
      const port = resolvePort(g.port, t.container);
      const scheme = (g.scheme ?? 'HTTP').toLowerCase();
      const path = g.path ?? '/';
      const url = `${scheme}://${g.host || t.host}:${port}${path.startsWith('/') ? path : '/' + path}`;
      const headers: Record<string, string> = { 'user-agent': 'kube-probe/1.30' };
      for (const hd of g.httpHeaders ?? []) headers[hd.name] = hd.value;
      const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
      await res.arrayBuffer().catch(() => undefined);
      const ok = res.status >= 200 && res.status < 400;
      return { ok, message: ok ? '' : `HTTP probe failed with statuscode: ${res.status}` };
    }
    if (h.tcpSocket) {
      const port = resolvePort(h.tcpSocket.port, t.container);
      const host = h.tcpSocket.host || t.host;
      await new Promise<void>((resolve, reject) => {
        const s = connect({ host, port });
        const timer = setTimeout(() => {
          s.destroy();
          reject(new Error(`dial tcp ${host}:${port}: i/o timeout`));
        }, timeoutMs);
        s.once('connect', () => {
          clearTimeout(timer);
          s.destroy();
          resolve();
        });
        s.once('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
      });
      return { ok: true, message: '' };
    }
    return { ok: true, message: '' };
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}

interface ContainerProbes {
  abort: AbortController;
  started: boolean;
  ready: boolean;
  /** Set when liveness or startup failed: the container must be restarted. */
  failed?: string;
}

export class ProbeManager {
  private readonly workers = new Map<string, ContainerProbes>();

  constructor(
    private readonly runtime: Runtime,
    private readonly onChange: (podUid: string) => void,
    private readonly log: Logger,
    private readonly clock: Clock = realClock,
  ) {}

  /** Starts workers for running containers that have none; stops workers of containers not listed. */
  sync(podUid: string, running: { spec: core.Container; rc: RuntimeContainer; host: string }[]): void {
    const keep = new Set(running.map((r) => r.rc.id));
    for (const [id, w] of this.workers) {
      if (id.startsWith(`${podUid}/`) && !keep.has(id.slice(podUid.length + 1))) {
        w.abort.abort();
        this.workers.delete(id);
      }
    }
    for (const r of running) {
      const key = `${podUid}/${r.rc.id}`;
      if (this.workers.has(key)) continue;
      const w: ContainerProbes = { abort: new AbortController(), started: !r.spec.startupProbe, ready: !r.spec.readinessProbe };
      this.workers.set(key, w);
      const target: ProbeTarget = { runtime: this.runtime, containerId: r.rc.id, container: r.spec, host: r.host };
      if (r.spec.startupProbe) void this.loop(podUid, w, 'startup', r.spec.startupProbe, target, r.rc.startedAt);
      if (r.spec.livenessProbe) void this.loop(podUid, w, 'liveness', r.spec.livenessProbe, target, r.rc.startedAt);
      if (r.spec.readinessProbe) void this.loop(podUid, w, 'readiness', r.spec.readinessProbe, target, r.rc.startedAt);
    }
  }

  removePod(podUid: string): void {
    for (const [id, w] of this.workers) {
      if (id.startsWith(`${podUid}/`)) {
        w.abort.abort();
        this.workers.delete(id);
      }
    }
  }

  stopAll(): void {
    for (const w of this.workers.values()) w.abort.abort();
    this.workers.clear();
  }

  /** Probe view of a container; unknown containers count as started+ready when they have no probes. */
  state(podUid: string, containerId: string): { started: boolean; ready: boolean; failed?: string } | undefined {
    const w = this.workers.get(`${podUid}/${containerId}`);
    return w ? { started: w.started, ready: w.started && w.ready, failed: w.failed } : undefined;
  }

  private async loop(podUid: string, w: ContainerProbes, kind: ProbeKind, p: core.Probe, t: ProbeTarget, startedAt?: number): Promise<void> {
    const signal = w.abort.signal;
    // False once the container's probes are stopped.
    const sleep = (ms: number): Promise<boolean> => this.clock.sleep(ms, signal).then(
      () => true,
      () => false,
    );
    const period = (p.periodSeconds ?? 10) * 1000;
    const timeout = (p.timeoutSeconds ?? 1) * 1000;
    const successThreshold = kind === 'readiness' ? p.successThreshold ?? 1 : 1;
    const failureThreshold = p.failureThreshold ?? 3;
    const initial = Math.max(0, (p.initialDelaySeconds ?? 0) * 1000 - (startedAt ? this.clock.now() - startedAt : 0));
    if (!(await sleep(initial))) return;
    let successes = 0;
    let failures = 0;
    for (;;) {
      if (signal.aborted) return;
      if (kind !== 'startup' && !w.started) {
        if (!(await sleep(Math.min(period, 500)))) return;
        continue;
      }
      const override = this.runtime.probeOverride?.(t.containerId, kind);
      const r = override !== undefined ? { ok: override, message: override ? '' : `${kind} probe failed (scripted)` } : await runHandler(p, t, timeout);
      if (signal.aborted) return;
      if (r.ok) {
        successes++;
        failures = 0;
      } else {
        failures++;
        successes = 0;
      }
      if (kind === 'startup') {
        if (r.ok) {
          w.started = true;
          this.onChange(podUid);
          return;
        }
        if (failures >= failureThreshold) {
          w.failed = `Startup probe failed: ${r.message}`;
          this.onChange(podUid);
          return;
        }
      } else if (kind === 'liveness') {
        if (failures >= failureThreshold) {
          this.log.info({ podUid, container: t.container.name, reason: r.message }, 'liveness probe failed');
          w.failed = `Liveness probe failed: ${r.message}`;
          this.onChange(podUid);
          return;
        }
      } else {
        const before = w.ready;
        if (r.ok && successes >= successThreshold) w.ready = true;
        if (!r.ok && failures >= failureThreshold) w.ready = false;
        if (before !== w.ready) this.onChange(podUid);
      }
      if (!(await sleep(period))) return;
    }
  }
}
