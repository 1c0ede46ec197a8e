/**
 * The kubelet's ServiceAccount token manager (pkg/kubelet/token/token_manager.go): the token of a
 * projected `serviceAccountToken` source is requested from the TokenRequest API, bound to the pod, and
 * kept until 80 % of its lifetime has passed (or 24 h), then requested anew — so the file in the pod is
 * rotated well before the token expires, and the volume's content (digest) changes only then.
 */
import type { ApiClient } from '../client/api.js';
import type { Clock } from '../component-base/clock.js';
import type { core } from '../api/types.js';

interface Cached {
  token: string;
  issuedAt: number;
  expiresAt: number;
}

const MAX_TTL_MS = 24 * 3600_000;

/** Whether a token issued at `issuedAt` that expires at `expiresAt` should be replaced at `now`. */
export function requiresRefresh(issuedAt: number, expiresAt: number, now: number): boolean {
  if (now >= expiresAt) return true;
  const ttl = expiresAt - issuedAt;
  return now - issuedAt > 0.8 * ttl || now - issuedAt > MAX_TTL_MS;
}

export class TokenManager {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly client: ApiClient,
    private readonly clock: Clock,
  ) {}

  /** The token for `pod`'s ServiceAccount with `audience` (default: the apiserver's) and lifetime `expirationSeconds`. */
  async token(pod: core.Pod, audience: string | undefined, expirationSeconds: number): Promise<string> {
    const uid = pod.metadata?.uid ?? '';
    const key = `${uid}/${audience ?? ''}/${expirationSeconds}`;
    const now = this.clock.now();
    const hit = this.cache.get(key);
    if (hit && !requiresRefresh(hit.issuedAt, hit.expiresAt, now)) return hit.token;
    const ns = pod.metadata?.namespace ?? 'default';
    const res = await this.client.requestToken(ns, pod.spec?.serviceAccountName || 'default', {
      ...(audience ? { audiences: [audience] } : {}),
      expirationSeconds,
      boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod.metadata?.name ?? '', uid },
    });
    const expiresAt = Date.parse(res.expirationTimestamp);
    this.cache.set(key, { token: res.token, issuedAt: now, expiresAt: Number.isFinite(expiresAt) ? expiresAt : now + expirationSeconds * 1000 });
    return res.token;
  }

  /** Drops the tokens of a pod that is gone. */
  forget(uid: string): void {
    for (const k of this.cache.keys()) if (k.startsWith(`${uid}/`)) this.cache.delete(k);
  }
}
