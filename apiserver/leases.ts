/**
 * Keys that expire (kube-apiserver's --event-ttl): an etcd lease per write, shared by the writes of a
 * short window so that a burst of Events costs one LeaseGrant, not one per Event. The rule is
 * Kubernetes' leaseManager (staging/src/k8s.io/apiserver/pkg/storage/etcd3/lease_manager.go): a lease is
 * granted for ttl + reuse seconds, where reuse = min(5 % of ttl, 60 s), and is reused while it still
 * outlives a new write's ttl by no more than the reuse window — every key lives at least ttl and at most
 * ttl + reuse.
 */
export interface LeaseGranter {
  /** Grants a lease of `ttlSeconds`; resolves with its ID (decimal string, as etcd's int64). */
  grant(ttlSeconds: number): Promise<string>;
}

const REUSE_PERCENT = 0.05;
const MAX_REUSE_SECONDS = 60;

export class LeaseManager {
  private prev?: { id: string; expiresAtMs: number };
  private pending?: Promise<string>;

  constructor(
    private readonly granter: LeaseGranter,
    private readonly now: () => number = Date.now,
  ) {}

  /** The lease a key written now with `ttlSeconds` to live gets (granted or reused). */
  async lease(ttlSeconds: number): Promise<string> {
    const reuse = Math.min(Math.floor(ttlSeconds * REUSE_PERCENT), MAX_REUSE_SECONDS);
    const now = this.now();
    const prev = this.prev;
    if (prev && now + ttlSeconds * 1000 < prev.expiresAtMs && now + (ttlSeconds + reuse) * 1000 >= prev.expiresAtMs) return prev.id;
    // Writes arriving while a grant is in flight share it (one LeaseGrant per window, not per Event).
    if (this.pending) return this.pending;
    const grant = this.granter.grant(ttlSeconds + reuse).then(
      (id) => {
        this.prev = { id, expiresAtMs: now + (ttlSeconds + reuse) * 1000 };
        this.pending = undefined;
        return id;
      },
      (err: unknown) => {
        this.pending = undefined;
        throw err;
      },
    );
    this.pending = grant;
    return grant;
  }
}
