/**
 * Controller expectations, as client-go's: after a controller asks for N creations and some deletions, it
 * does not act on that controller key again until the informer has shown them (or they expire), so a
 * slow watch never makes it create or delete twice.
 * Creations are counted; deletions are tracked by pod key, so a pod seen twice (deletionTimestamp, then
 * the DELETE event) is observed once.
 */
import type { Clock } from '../component-base/clock.js';

/** Kubernetes' ExpectationsTimeout: a lost watch event is forgotten after 5 minutes. */
export const EXPECTATIONS_TIMEOUT_MS = 5 * 60_000;

interface Entry {
  adds: number;
  dels: Set<string>;
  at: number;
}

export class Expectations {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs = EXPECTATIONS_TIMEOUT_MS,
  ) {}

  /** True when the controller may sync: nothing pending, or the pending entry expired. */
  satisfied(key: string): boolean {
    const e = this.entries.get(key);
    if (!e) return true;
    if (e.adds <= 0 && e.dels.size === 0) return true;
    return this.clock.now() - e.at > this.timeoutMs;
  }

  /**
   * Milliseconds until the key's pending entry expires; undefined when nothing is pending. A controller held by its
   * expectations comes back then: an event it never observed (a watch that lost it) would otherwise hold it until
   * some other event about the key — for a steady ReplicaSet, never.
   */
  expiresInMs(key: string): number | undefined {
    const e = this.entries.get(key);
    if (!e || (e.adds <= 0 && e.dels.size === 0)) return undefined;
    return Math.max(0, e.at + this.timeoutMs - this.clock.now());
  }

  expectCreations(key: string, n: number): void {
    this.entries.set(key, { adds: n, dels: new Set(), at: this.clock.now() });
  }

  expectDeletions(key: string, podKeys: string[]): void {
    const e = this.entries.get(key);
    if (e && (e.adds > 0 || e.dels.size > 0) && this.clock.now() - e.at <= this.timeoutMs) {
      podKeys.forEach((k) => e.dels.add(k));
      return;
    }
    this.entries.set(key, { adds: 0, dels: new Set(podKeys), at: this.clock.now() });
  }

  creationObserved(key: string): void {
    const e = this.entries.get(key);
    if (e && e.adds > 0) e.adds--;
  }

  deletionObserved(key: string, podKey: string): void {
    this.entries.get(key)?.dels.delete(podKey);
  }

  /** Pending (adds, deletions) for logs and tests. */
  pending(key: string): { adds: number; dels: number } {
    const e = this.entries.get(key);
    return { adds: e?.adds ?? 0, dels: e?.dels.size ?? 0 };
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}
