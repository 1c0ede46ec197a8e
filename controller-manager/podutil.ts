/** Pure helpers over pods shared by the workload controllers (tested in podutil.test.ts). */
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { clone, isPodReady, podCondition } from '../api/objects.js';
import { matchesLabels, type Selector } from '../api/selectors.js';
import type { KObject, core } from '../api/types.js';
import type { Pod } from './types.js';

function ts(s: string | undefined): number {
  return s ? Date.parse(s) : 0;
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function restarts(p: Pod): number {
  return Math.max(0, ...(p.status?.containerStatuses ?? []).map((c) => c.restartCount ?? 0));
}

/**
 * Orders pods the way Kubernetes picks pods to delete first (ActivePodsWithRanks): unscheduled before
 * scheduled, Pending < Unknown < Running, not ready before ready, more co-located siblings first,
 * ready for less time first, more restarts first, then newest first.
 * `rank` maps a pod key to the number of related pods on its node.
 */
export function compareForDeletion(a: Pod, b: Pod, rank: (p: Pod) => number = () => 0): number {
  const sa = a.spec?.nodeName ? 1 : 0;
  const sb = b.spec?.nodeName ? 1 : 0;
  if (sa !== sb) return sa - sb;
  const pa = PHASE_RANK[a.status?.phase ?? 'Pending'] ?? 0;
  const pb = PHASE_RANK[b.status?.phase ?? 'Pending'] ?? 0;
  if (pa !== pb) return pa - pb;
  const ra = isPodReady(a) ? 1 : 0;
  const rb = isPodReady(b) ? 1 : 0;
  if (ra !== rb) return ra - rb;
  const ka = rank(a);
  const kb = rank(b);
  if (ka !== kb) return kb - ka;
  if (ra && rb) {
    const ta = ts(podCondition(a, 'Ready')?.lastTransitionTime);
    const tb = ts(podCondition(b, 'Ready')?.lastTransitionTime);
    if (ta !== tb) return tb - ta;
  }
  const xa = restarts(a);
  const xb = restarts(b);
  if (xa !== xb) return xb - xa;
  const ca = ts(a.metadata?.creationTimestamp);
  const cb = ts(b.metadata?.creationTimestamp);
  if (ca !== cb) return cb - ca;
  return (b.metadata?.name ?? '').localeCompare(a.metadata?.name ?? '');
}

/** The `n` pods to delete first, ranked by co-location among `pods` themselves. */
export function podsToDelete(pods: Pod[], n: number): Pod[] {
  const perNode = new Map<string, number>();
  for (const p of pods) if (p.spec?.nodeName) perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
  const rank = (p: Pod): number => (p.spec?.nodeName ? (perNode.get(p.spec.nodeName) ?? 0) : 0);
  return [...pods].sort((a, b) => compareForDeletion(a, b, rank)).slice(0, Math.max(0, n));
}

/** Ready and ready for at least minReadySeconds at `now`. */
export function isPodAvailable(pod: Pod, minReadySeconds: number, now: number): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const since = ts(podCondition(pod, 'Ready')?.lastTransitionTime);
  return since > 0 && since + minReadySeconds * 1000 <= now;
}

/** A pod for `template` owned by `owner` (GetPodFromTemplate). */
export function podFromTemplate(template: core.PodTemplateSpec, namespace: string, owner: OwnerReference, generateName: string): Pod {
  const t = clone(template);
  const meta = t.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName,
      namespace,
      labels: { ...(meta.labels ?? {}) },
      ...(meta.annotations ? { annotations: { ...meta.annotations } } : {}),
      ...(meta.finalizers ? { finalizers: [...meta.finalizers] } : {}),
      ownerReferences: [owner],
    },
    spec: t.spec as core.PodSpec,
  };
}

export type ClaimAction = 'keep' | 'adopt' | 'release' | 'ignore';

/**
 * What a controller does with a candidate object (ClaimObject): its own matching objects are kept,
 * its own non-matching ones released, matching orphans adopted, everything else ignored.
 */
export function claimAction(obj: KObject, ownerUid: string, selector: Selector, ownerDeleting: boolean): ClaimAction {
  const ref = obj.metadata?.ownerReferences?.find((r) => r.controller === true);
  const matches = matchesLabels(selector, obj.metadata?.labels);
  if (ref) {
    if (ref.uid !== ownerUid) return 'ignore';
    if (matches) return 'keep';
    return ownerDeleting ? 'keep' : 'release';
  }
  if (!matches || ownerDeleting || obj.metadata?.deletionTimestamp) return 'ignore';
  return 'adopt';
}

/** Number of completed slow-start batches' sizes: 1, 2, 4, … up to `total`. */
export function slowStartBatches(total: number, initial = 1): number[] {
  const out: number[] = [];
  let left = total;
  let size = Math.min(initial, left);
  while (left > 0) {
    out.push(size);
    left -= size;
    size = Math.min(size * 2, left);
  }
  return out;
}

/** Runs `fn` in slow-start batches; stops at the first batch with a failure. Returns successes. */
export async function slowStart(total: number, fn: () => Promise<void>): Promise<{ ok: number; errors: unknown[] }> {
  let ok = 0;
  for (const size of slowStartBatches(total)) {
    const results = await Promise.allSettled(Array.from({ length: size }, () => fn()));
    const errors = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
    ok += size - errors.length;
    if (errors.length) return { ok, errors };
  }
  return { ok, errors: [] };
}
