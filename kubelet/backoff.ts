/**
 * Per-key exponential back-off, as kubelet's flowcontrol.Backoff: the first restart is immediate, the
 * next waits `initial`, then doubles up to `max`; a key untouched for `reset` starts over.
 */
import type { Clock } from '../component-base/clock.js';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** An entry not used for this long is forgotten (the container ran fine). */
  resetMs: number;
}

export class Backoff {
  private readonly entries = new Map<string, { delayMs: number; lastUpdate: number }>();

  constructor(
    private readonly opts: BackoffOptions,
    private readonly clock: Clock,
  ) {}

  /** The current delay for key (0 when none). */
  get(key: string): number {
    return this.entries.get(key)?.delayMs ?? 0;
  }

  /** True while `eventTime + delay` lies in the future: the caller must wait. */
  isInBackOffSince(key: string, eventTime: number): boolean {
    const e = this.entries.get(key);
    if (!e) return false;
    if (this.clock.now() - e.lastUpdate > this.opts.resetMs + this.opts.maxMs) return false;
    return this.clock.now() - eventTime < e.delayMs;
  }

  /** Milliseconds left until the back-off since eventTime ends (0 when not backing off). */
  remaining(key: string, eventTime: number): number {
    const e = this.entries.get(key);
    if (!e) return 0;
    return Math.max(0, eventTime + e.delayMs - this.clock.now());
  }

  /** Records an attempt: the next back-off is initial, or double the last one. */
  next(key: string): number {
    const now = this.clock.now();
    const e = this.entries.get(key);
    if (!e || now - e.lastUpdate > this.opts.resetMs + this.opts.maxMs) {
      this.entries.set(key, { delayMs: this.opts.initialMs, lastUpdate: now });
      return this.opts.initialMs;
    }
    e.delayMs = Math.min(e.delayMs * 2, this.opts.maxMs);
    e.lastUpdate = now;
    return e.delayMs;
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Drops every key starting with prefix (a deleted pod's containers). */
  forgetPrefix(prefix: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }
}
