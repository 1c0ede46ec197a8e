/**
 * PodDisruptionBudget arithmetic, shared by the eviction subresource (apiserver) and the disruption
 * controller (which writes it into the budget's status for `kubectl get pdb`).
 *
 * As in Kubernetes' disruption controller: the pods a budget guards are the non-terminating pods of its
 * namespace its selector matches (a null selector matches none, an empty one every pod); a pod is
 * healthy when its Ready condition is True; minAvailable / maxUnavailable percentages are taken of the
 * expected pod count and rounded up.
 */
import { isPodReady } from './objects.js';
import { fromLabelSelector, matchesLabels } from './selectors.js';
import type { core, policy } from './types.js';

export interface Budget {
  expectedPods: number;
  currentHealthy: number;
  desiredHealthy: number;
  disruptionsAllowed: number;
}

/** Whether the budget's selector picks `pod` (same namespace; whatever the pod's state). */
export function budgetSelects(pdb: policy.PodDisruptionBudget, pod: core.Pod): boolean {
  const sel = fromLabelSelector(pdb.spec?.selector);
  return sel !== undefined && pod.metadata?.namespace === pdb.metadata?.namespace && matchesLabels(sel, pod.metadata?.labels);
}

/** The pods `pdb` guards, among `pods` (any namespace; only the budget's own counts). */
export function guardedPods(pdb: policy.PodDisruptionBudget, pods: Iterable<core.Pod>): core.Pod[] {
  const out: core.Pod[] = [];
  for (const p of pods) {
    if (p.metadata?.deletionTimestamp || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
    if (budgetSelects(pdb, p)) out.push(p);
  }
  return out;
}

function scaled(v: number | string, total: number): number {
  if (typeof v === 'number') return v;
  const pct = Number(v.replace('%', ''));
  return Math.ceil((pct * total) / 100);
}

export function computeBudget(pdb: policy.PodDisruptionBudget, pods: Iterable<core.Pod>): Budget {
  const guarded = guardedPods(pdb, pods);
  const expectedPods = guarded.length;
  const currentHealthy = guarded.filter(isPodReady).length;
  let desiredHealthy = 0;
  const spec = pdb.spec ?? {};
  if (spec.maxUnavailable !== undefined) desiredHealthy = Math.max(0, expectedPods - scaled(spec.maxUnavailable, expectedPods));
  else if (spec.minAvailable !== undefined) desiredHealthy = scaled(spec.minAvailable, expectedPods);
  else desiredHealthy = expectedPods;
  return { expectedPods, currentHealthy, desiredHealthy, disruptionsAllowed: Math.max(0, currentHealthy - desiredHealthy) };
}

/**
 * Whether evicting `pod` is allowed under `budget`. Pods that are not running (Pending, finished) or
 * already terminating never count against a budget; an unready running pod may go while the guarded
 * application is not disrupted (Kubernetes' default unhealthyPodEvictionPolicy, IfHealthyBudget).
 */
export function evictionAllowed(pod: core.Pod, budget: Budget): boolean {
  if (pod.metadata?.deletionTimestamp || pod.status?.phase !== 'Running') return true;
  if (!isPodReady(pod)) return budget.currentHealthy >= budget.desiredHealthy;
  return budget.disruptionsAllowed > 0;
}
