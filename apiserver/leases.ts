/**
 * Keys that expire (kube-apiserver's --event-ttl): an etcd lease per write, shared by the writes of a
 * short window so that a burst of Events costs one LeaseGrant, not one per Event. The rule is
 * Kubernetes' leaseManager (staging/src/k8s.io/apiserver/pkg/storage/etcd3/lease_manager.go): a lease is
 * granted for ttl + reuse seconds, where reuse = min(5 % of ttl, 60 s), and is reused while it still
 * outlives a new write's ttl by no more than the reuse window — every key lives at least ttl and at most
 * ttl + reuse. As Kubernetes' (its defaultLeaseMaxObjectCount), a lease holds at most 1,000 keys: etcd revokes a
 * lease in one transaction that deletes every key on it, and one transaction of tens of thousands of deletes (a
 * burst of Events an hour ago) stalls etcd while it runs — with etcd 3.4 it slows every later read for good (the
 * write buffer keeps the size it grew to, and each read copies it whole).
 */
export interface LeaseGranter {
  /** Grants a lease of `ttlSeconds`; resolves with its ID (decimal string, as etcd's int64). */
  grant(ttlSeconds: number): Promise<string>;
}

const REUSE_PERCENT = 0.05;
const MAX_REUSE_SECONDS = 60;
/** Keys on one lease at most (kube-apiserver's defaultLeaseMaxObjectCount). */
export const MAX_KEYS_PER_LEASE = 1000;

export class LeaseManager {
  private prev?: { id: string; expiresAtMs: number };
  /** Keys given `prev` so far. */
  private attached = 0;
  private pending?: { grant: Promise<string>; sharers: number };

  constructor(
    private readonly granter: LeaseGranter,
    private readonly now: () => number = Date.now,
    private readonly maxKeysPerLease = MAX_KEYS_PER_LEASE,
  ) {}

  /** The lease a key written now with `ttlSeconds` to live gets (granted or reused). */
  async lease(ttlSeconds: number): Promise<string> {
    const reuse = Math.min(Math.floor(ttlSeconds * REUSE_PERCENT), MAX_REUSE_SECONDS);
    const now = this.now();
    const prev = this.prev;
    if (prev && this.attached < this.maxKeysPerLease && now + ttlSeconds * 1000 < prev.expiresAtMs && now + (ttlSeconds + reuse) * 1000 >= prev.expiresAtMs) {
      this.attached++;
      return prev.id;
    }
    // Writes arriving while a grant is in flight share it (one LeaseGrant per window, not per Event), up to the limit.
    const pending = this.pending;
    if (pending && pending.sharers < this.maxKeysPerLease) {
      pending.sharers++;
      return pending.grant;
    }
    const mine: { grant: Promise<string>; sharers: number } = { grant: Promise.resolve(''), sharers: 1 };
    mine.grant = this.granter.grant(ttlSeconds + reuse).then(
      (id) => {
        // A grant started after this one (this one filled up) is the newer lease: it wins.
        if (this.pending === mine) {
          this.prev = { id, expiresAtMs: now + (ttlSeconds + reuse) * 1000 };
          this.attached = mine.sharers;
          this.pending = undefined;
        }
        return id;
      },
      (err: unknown) => {
        if (this.pending === mine) this.pending = undefined;
        throw err;
      },
    );
    this.pending = mine;
    return mine.grant;
  }
}
