/**
 * Leader election on a coordination.k8s.io Lease, as client-go's: the holder renews every `retryPeriod`;
 * a candidate takes the lease once it has not been renewed for `leaseDuration` (measured on the candidate's
 * own clock from when it last saw the record change, so clocks need not agree).
 */
import type { Logger } from 'pino';
import type { ApiClient } from './api.js';
import { isAlreadyExists, isConflict, isNotFound } from './errors.js';
import { realClock, type Clock } from './clock.js';
import type { coordination } from './types.js';

export interface LeaderElectionConfig {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export const DEFAULT_LEADER_ELECTION = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

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
   * Campaigns until elected, runs `lead(leaderSignal)`, and keeps renewing. If renewal fails past the
   * renew deadline, leadership is lost: `leaderSignal` aborts and this resolves (the caller should exit,
   * as Kubernetes components do). Resolves when `signal` aborts.
   */
  async run(signal: AbortSignal, lead: (leaderSignal: AbortSignal) => Promise<void>): Promise<void> {
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew()) break;
      try {
        await this.clock.sleep(this.cfg.retryPeriodMs, signal);
      } catch {
        return;
      }
    }
    if (signal.aborted) return;
    this.leading = true;
    this.log.info({ lease: this.cfg.name, identity: this.cfg.identity }, 'became leader');
    const leaderCtl = new AbortController();
    const onAbort = (): void => leaderCtl.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const work = lead(leaderCtl.signal).catch((err: unknown) => this.log.error({ err }, 'leader work failed'));
    let lastRenew = this.clock.now();
    while (!signal.aborted) {
      try {
        await this.clock.sleep(this.cfg.retryPeriodMs, signal);
      } catch {
        break;
      }
      if (await this.tryAcquireOrRenew()) lastRenew = this.clock.now();
      else if (this.clock.now() - lastRenew > this.cfg.renewDeadlineMs) {
        this.log.error({ lease: this.cfg.name }, 'lost leadership');
        break;
      }
    }
    this.leading = false;
    leaderCtl.abort();
    signal.removeEventListener('abort', onAbort);
    await work;
    if (signal.aborted) await this.release();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.clock.now();
    const nowIso = new Date(now).toISOString().replace('Z', '000Z');
    const { namespace, name, identity } = this.cfg;
    const durationSeconds = Math.ceil(this.cfg.leaseDurationMs / 1000);
    try {
      let lease: coordination.Lease;
      try {
        lease = await this.client.get('leases', name, { namespace });
      } catch (err) {
        if (!isNotFound(err)) throw err;
        await this.client.create('leases', {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: nowIso, renewTime: nowIso, leaseTransitions: 0 },
        });
        this.observe(`${identity}/${nowIso}`, now);
        return true;
      }
      const spec = lease.spec ?? {};
      const record = `${spec.holderIdentity ?? ''}/${spec.renewTime ?? ''}`;
      if (record !== this.observedRecord) this.observe(record, now);
      const held = spec.holderIdentity && spec.holderIdentity !== identity;
      if (held && this.observedAt + (spec.leaseDurationSeconds ?? durationSeconds) * 1000 > now) return false;
      const transitions = (spec.leaseTransitions ?? 0) + (spec.holderIdentity === identity ? 0 : 1);
      await this.client.update('leases', {
        ...lease,
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds: durationSeconds,
          acquireTime: spec.holderIdentity === identity ? spec.acquireTime : nowIso,
          renewTime: nowIso,
          leaseTransitions: transitions,
        },
      });
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

  /** Gives the lease up on shutdown so a standby takes over at once. */
  private async release(): Promise<void> {
    try {
      const lease = await this.client.get('leases', this.cfg.name, { namespace: this.cfg.namespace });
      if (lease.spec?.holderIdentity !== this.cfg.identity) return;
      await this.client.update('leases', { ...lease, spec: { ...lease.spec, holderIdentity: '', renewTime: undefined } });
    } catch {
      /* best effort */
    }
  }
}
