/**
 * Leader election on a coordination.k8s.io Lease, as client-go's: the holder renews every `retryPeriod`;
 * a candidate takes the lease once it has not been renewed for `leaseDuration` (measured on the candidate's
 * own clock from when it last saw the record change, so clocks need not agree).
 */
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { ApiClient, CallOptions } from './api.js';
import { ApiError, isAlreadyExists, isConflict, isNotFound } from '../api/errors.js';
import { realClock, type Clock } from '../component-base/clock.js';
import type { coordination } from '../api/types.js';

export interface LeaderElectionConfig {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/** Why `run` returned: shutdown, a renewal that missed its deadline, or the leader's work ending by itself. */
export type ElectionEnd = 'stopped' | 'lost-lease' | 'work-ended';

/** Thrown into a renewal's API calls when the renew deadline passes. */
export class RenewDeadlineError extends Error {
  constructor(readonly lease: string, readonly renewDeadlineMs: number) {
    super(`lease ${lease} not renewed within the renew deadline of ${renewDeadlineMs} ms`);
    this.name = 'RenewDeadlineError';
  }
}

export class LeaderElector {
  private observedRecord = '';
  private observedAt = 0;
  private leading = false;
  private readonly clock: Clock;

  constructor(
    private readonly client: ApiClient,
    private readonly cfg: LeaderElectionConfig,
    private readonly log: Logger,
    clock?: Clock,
  ) {
    this.clock = clock ?? realClock;
  }

  isLeader(): boolean {
    return this.leading;
  }

  /**
   * Campaigns until elected, runs `lead(leaderSignal)`, and keeps renewing. A leader stops acting once
   * `renewDeadline` has passed since its last successful renewal began: `leaderSignal` aborts at that
   * moment (the renewal's API calls are cut at the same deadline), so with renewDeadline < leaseDuration
   * a partitioned leader stops before a standby can take the lease. If `lead` settles on its own (its
   * work loop died) the lease is given up at once so that a standby takes over. Resolves with why it ended.
   */
  async run(signal: AbortSignal, lead: (leaderSignal: AbortSignal) => Promise<void>): Promise<ElectionEnd> {
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew({ signal })) break;
      try {
        await this.clock.sleep(this.cfg.retryPeriodMs, signal);
      } catch {
        return 'stopped';
      }
    }
    if (signal.aborted) return 'stopped';
    this.leading = true;
    this.log.info({ lease: this.cfg.name, identity: this.cfg.identity }, 'became leader');
    const leaderCtl = new AbortController();
    // The leader's whole work listens on this signal (every in-flight call of a busy scheduler adds one): not a leak.
    setMaxListeners(0, leaderCtl.signal);
    const onAbort = (): void => leaderCtl.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    // `ended` aborts the renew loop's waits when the work settles by itself.
    const ended = new AbortController();
    const work = lead(leaderCtl.signal).then(
      () => {
        if (!leaderCtl.signal.aborted) this.log.error({ lease: this.cfg.name }, 'leader work ended while leading; giving up the lease');
      },
      (err: unknown) => this.log.error({ lease: this.cfg.name, err: err instanceof Error ? err.message : String(err) }, 'leader work failed; giving up the lease'),
    ).finally(() => ended.abort());
    const both = AbortSignal.any([signal, ended.signal]);
    let end: ElectionEnd = 'stopped';
    // The renewal that just won the lease started before this instant: deadlines count from it.
    let renewedAt = this.lastAttemptAt;
    for (;;) {
      try {
        await this.clock.sleep(this.cfg.retryPeriodMs, both);
      } catch {
        break;
      }
      const ok = await this.renewBefore(renewedAt + this.cfg.renewDeadlineMs, both);
      if (both.aborted) break;
      if (ok === undefined) {
        this.log.error({ lease: this.cfg.name, renewDeadlineMs: this.cfg.renewDeadlineMs }, 'lost leadership: lease not renewed within the renew deadline');
        end = 'lost-lease';
        break;
      }
      renewedAt = ok;
    }
    this.leading = false;
    leaderCtl.abort();
    signal.removeEventListener('abort', onAbort);
    if (end !== 'lost-lease' && !signal.aborted && ended.signal.aborted) end = 'work-ended';
    await work;
    if (signal.aborted || end === 'work-ended') await this.release();
    return end;
  }

  /**
   * Retries the renewal every retryPeriod until `deadline` (on this elector's clock); each attempt's API
   * calls are cancelled at the deadline. Returns when the successful attempt started, or undefined.
   */
  private async renewBefore(deadline: number, outer: AbortSignal): Promise<number | undefined> {
    const ctl = new AbortController();
    const onOuter = (): void => ctl.abort(outer.reason);
    outer.addEventListener('abort', onOuter, { once: true });
    const timer = new AbortController();
    this.clock.sleep(Math.max(0, deadline - this.clock.now()), timer.signal).then(
      () => ctl.abort(new RenewDeadlineError(this.cfg.name, this.cfg.renewDeadlineMs)),
      () => undefined,
    );
    try {
      while (!ctl.signal.aborted) {
        // One attempt may use half the renew deadline (as Kubernetes' components set their leader-election
        // client's timeout), so a call lost in a network blip leaves time for another attempt.
        const timeoutMs = Math.min(deadline - this.clock.now(), Math.max(this.cfg.renewDeadlineMs / 2, this.cfg.retryPeriodMs));
        if (timeoutMs <= 0) return undefined;
        const attempt = new AbortController();
        const onCtl = (): void => attempt.abort(ctl.signal.reason);
        ctl.signal.addEventListener('abort', onCtl, { once: true });
        const attemptTimer = new AbortController();
        this.clock.sleep(timeoutMs, attemptTimer.signal).then(
          () => attempt.abort(new ApiError('Timeout', `lease ${this.cfg.name}: renewal attempt timed out after ${timeoutMs} ms`)),
          () => undefined,
        );
        let ok: boolean;
        try {
          ok = await this.tryAcquireOrRenew({ signal: attempt.signal, timeoutMs });
        } finally {
          attemptTimer.abort();
          ctl.signal.removeEventListener('abort', onCtl);
        }
        if (ok) return this.lastAttemptAt;
        if (ctl.signal.aborted) return undefined;
        try {
          await this.clock.sleep(this.cfg.retryPeriodMs, ctl.signal);
        } catch {
          return undefined;
        }
      }
      return undefined;
    } finally {
      timer.abort();
      outer.removeEventListener('abort', onOuter);
    }
  }

  /** When the latest acquire/renew attempt started (its renewTime). */
  private lastAttemptAt = 0;

  private async tryAcquireOrRenew(call: CallOptions): Promise<boolean> {
    const now = this.clock.now();
    this.lastAttemptAt = now;
    const nowIso = new Date(now).toISOString().replace('Z', '000Z');
    const { namespace, name, identity } = this.cfg;
    const durationSeconds = Math.ceil(this.cfg.leaseDurationMs / 1000);
    try {
      let lease: coordination.Lease;
      try {
        lease = await this.client.get('leases', name, { namespace, ...call });
      } catch (err) {
        if (!isNotFound(err)) throw err;
        await this.client.create(
          'leases',
          {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name, namespace },
            spec: { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: nowIso, renewTime: nowIso, leaseTransitions: 0 },
          },
          call,
        );
        this.observe(`${identity}/${nowIso}`, now);
        return true;
      }
      const spec = lease.spec ?? {};
      const record = `${spec.holderIdentity ?? ''}/${spec.renewTime ?? ''}`;
      if (record !== this.observedRecord) this.observe(record, now);
      const held = spec.holderIdentity && spec.holderIdentity !== identity;
      if (held && this.observedAt + (spec.leaseDurationSeconds ?? durationSeconds) * 1000 > now) return false;
      const transitions = (spec.leaseTransitions ?? 0) + (spec.holderIdentity === identity ? 0 : 1);
      await this.client.update(
        'leases',
        {
          ...lease,
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds: durationSeconds,
            acquireTime: spec.holderIdentity === identity ? spec.acquireTime : nowIso,
            renewTime: nowIso,
            leaseTransitions: transitions,
          },
        },
        call,
      );
      this.observe(`${identity}/${nowIso}`, now);
      return true;
    } catch (err) {
      if (!isConflict(err) && !isAlreadyExists(err)) this.log.warn({ err: (err as Error).message }, 'lease update failed');
      return false;
    }
  }

  private observe(record: string, at: number): void {
    this.observedRecord = record;
    this.observedAt = at;
  }

  /** Gives the lease up (on shutdown, or when the work died) so a standby takes over at once. */
  private async release(): Promise<void> {
    // Bounded: a leader that cannot reach the apiserver gives up waiting; its lease then simply expires.
    const call = { timeoutMs: this.cfg.renewDeadlineMs };
    try {
      const lease = await this.client.get('leases', this.cfg.name, { namespace: this.cfg.namespace, ...call });
      if (lease.spec?.holderIdentity !== this.cfg.identity) return;
      await this.client.update('leases', { ...lease, spec: { ...lease.spec, holderIdentity: '', renewTime: undefined } }, call);
    } catch {
      /* best effort */
    }
  }
}
