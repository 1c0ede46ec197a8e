import { describe, expect, it } from 'vitest';
import type { ApiClient, CallOptions } from './api.js';
import { FakeClock } from '../component-base/clock.js';
import { ApiError } from '../api/errors.js';
import { LeaderElector, RenewDeadlineError, type ElectionEnd } from './leaderelection.js';
import { nullLogger } from '../component-base/log.js';
import type { coordination } from '../api/types.js';

/**
 * One Lease in memory behind the three calls the elector makes. While `partitioned`, a call never
 * answers: it settles only when its caller cancels it (as a gRPC call to a paused network does).
 */
class FakeLeases {
  lease?: coordination.Lease;
  partitioned = false;
  rv = 0;
  /** Calls cancelled by their caller, with the reason they were given. */
  readonly cancelled: unknown[] = [];
  /** Every call's options, to check that renewals carry a bound. */
  readonly calls: CallOptions[] = [];

  private answer<T>(call: CallOptions | undefined, fn: () => T): Promise<T> {
    this.calls.push(call ?? {});
    if (!this.partitioned) {
      try {
        return Promise.resolve(fn());
      } catch (err) {
        return Promise.reject(err as Error);
      }
    }
    return new Promise<T>((_, reject) => {
      const signal = call?.signal;
      signal?.addEventListener(
        'abort',
        () => {
          this.cancelled.push(signal.reason);
          reject(signal.reason as Error);
        },
        { once: true },
      );
    });
  }

  readonly client = {
    get: (_r: string, _n: string, o?: CallOptions) =>
      this.answer(o, () => {
        if (!this.lease) throw new ApiError('NotFound', 'leases "l" not found');
        return structuredClone(this.lease);
      }),
    create: (_r: string, obj: coordination.Lease, o?: CallOptions) =>
      this.answer(o, () => {
        if (this.lease) throw new ApiError('AlreadyExists', 'exists');
        this.lease = { ...structuredClone(obj), metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
        return this.lease;
      }),
    update: (_r: string, obj: coordination.Lease, o?: CallOptions) =>
      this.answer(o, () => {
        if (obj.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) throw new ApiError('Conflict', 'conflict');
        this.lease = { ...structuredClone(obj), metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
        return this.lease;
      }),
  } as unknown as ApiClient;
}

const CFG = { namespace: 'kube-system', name: 'l', leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

/** Lets queued continuations run without moving the fake time. */
const settle = (clock: FakeClock): Promise<void> => clock.advance(0);

describe('LeaderElector', () => {
  it('stops the leader\'s work at the renew deadline when renewals hang, cancelling the hung call', async () => {
    const clock = new FakeClock();
    const store = new FakeLeases();
    const elector = new LeaderElector(store.client, { ...CFG, identity: 'a' }, nullLogger(), clock);
    const ctl = new AbortController();
    let workStoppedAt: number | undefined;
    let end: ElectionEnd | undefined;
    const running = elector
      .run(ctl.signal, (leader) => new Promise<void>((resolve) => leader.addEventListener('abort', () => ((workStoppedAt = clock.now()), resolve()), { once: true })))
      .then((e) => (end = e));
    await settle(clock);
    expect(elector.isLeader()).toBe(true);
    const acquiredAt = clock.now();

    // One good renewal, then the network goes away just before the next.
    await clock.advance(CFG.retryPeriodMs);
    expect(store.lease?.spec?.renewTime).toBe(new Date(acquiredAt + CFG.retryPeriodMs).toISOString().replace('Z', '000Z'));
    const lastRenewStart = clock.now();
    store.partitioned = true;
    const callsBefore = store.calls.length;

    await clock.advance(CFG.renewDeadlineMs - 1);
    expect(elector.isLeader()).toBe(true);
    expect(workStoppedAt).toBeUndefined();
    // Every call of the renewal carried the time left before the deadline.
    const renewalCalls = store.calls.slice(callsBefore);
    expect(renewalCalls.length).toBeGreaterThan(0);
    for (const c of renewalCalls) {
      expect(c.signal).toBeDefined();
      expect(c.timeoutMs).toBeGreaterThan(0);
      expect(c.timeoutMs).toBeLessThanOrEqual(CFG.renewDeadlineMs);
    }

    await clock.advance(1);
    expect(workStoppedAt).toBe(lastRenewStart + CFG.renewDeadlineMs);
    // The leader stops acting before any standby could consider the lease free.
    expect(workStoppedAt).toBeLessThan(lastRenewStart + CFG.leaseDurationMs);
    expect(store.cancelled.some((r) => r instanceof RenewDeadlineError)).toBe(true);
    await running;
    expect(end).toBe('lost-lease');
    expect(elector.isLeader()).toBe(false);
  });

  it('keeps leading across renewals that succeed late but within the deadline', async () => {
    const clock = new FakeClock();
    const store = new FakeLeases();
    const elector = new LeaderElector(store.client, { ...CFG, identity: 'a' }, nullLogger(), clock);
    const ctl = new AbortController();
    let stopped = false;
    const running = elector.run(ctl.signal, (leader) => new Promise<void>((resolve) => leader.addEventListener('abort', () => ((stopped = true), resolve()), { once: true })));
    await settle(clock);
    // Down for less than the deadline, then back: the retry inside the deadline renews.
    store.partitioned = true;
    await clock.advance(CFG.renewDeadlineMs - CFG.retryPeriodMs);
    store.partitioned = false;
    await clock.advance(CFG.retryPeriodMs * 3);
    expect(stopped).toBe(false);
    expect(elector.isLeader()).toBe(true);
    ctl.abort();
    expect(await running).toBe('stopped');
    // Shutdown hands the lease over at once.
    expect(store.lease?.spec?.holderIdentity).toBe('');
  });

  it('gives the lease up when the leader\'s work ends on its own, so a standby takes it without waiting', async () => {
    const clock = new FakeClock();
    const store = new FakeLeases();
    const a = new LeaderElector(store.client, { ...CFG, identity: 'a' }, nullLogger(), clock);
    const b = new LeaderElector(store.client, { ...CFG, identity: 'b' }, nullLogger(), clock);
    const ctl = new AbortController();
    let failWork!: (err: Error) => void;
    const aEnd = a.run(ctl.signal, () => new Promise<void>((_, reject) => (failWork = reject)));
    await settle(clock);
    expect(a.isLeader()).toBe(true);
    let bLeading = false;
    const bEnd = b.run(ctl.signal, (leader) => {
      bLeading = true;
      return new Promise<void>((resolve) => leader.addEventListener('abort', () => resolve(), { once: true }));
    });
    await clock.advance(CFG.retryPeriodMs);
    expect(bLeading).toBe(false);

    failWork(new Error('scheduling loop crashed'));
    expect(await aEnd).toBe('work-ended');
    expect(store.lease?.spec?.holderIdentity).toBe('');
    // b takes over at its next attempt, well before the lease would have expired.
    await clock.advance(CFG.retryPeriodMs);
    expect(bLeading).toBe(true);
    ctl.abort();
    await clock.advance(0);
    expect(await bEnd).toBe('stopped');
  });
});
