/** Pure taint/toleration logic shared by node lifecycle, taint eviction, pod GC and DaemonSets. */
import type { core } from '../api/types.js';

export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

/** Does the toleration tolerate the taint (ToleratesTaint)? */
export function toleratesTaint(t: core.Toleration, taint: core.Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.operator === 'Exists') return !t.key || t.key === taint.key;
  return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
}

/** Taints (of the given effects) that no toleration tolerates. */
export function untoleratedTaints(taints: readonly core.Taint[], tolerations: readonly core.Toleration[], effects: readonly string[]): core.Taint[] {
  return taints.filter((taint) => effects.includes(taint.effect) && !tolerations.some((t) => toleratesTaint(t, taint)));
}

/**
 * When a pod on a node with these NoExecute taints must be evicted (ms since epoch), or `Infinity`
 * when never; `now` for a taint some toleration does not cover or whose toleration is used up.
 * The clock starts at the taint's timeAdded (fallback `firstSeen`) so a restarted controller agrees.
 */
export function evictionTime(taints: readonly core.Taint[], tolerations: readonly core.Toleration[], now: number, firstSeen = now): number {
  let at = Infinity;
  for (const taint of taints) {
    if (taint.effect !== 'NoExecute') continue;
    const used = tolerations.filter((t) => toleratesTaint(t, taint));
    if (used.length === 0) return now;
    // As Kubernetes' getMinTolerationTime: tolerations without seconds are ignored, the shortest wins.
    const secs = Math.min(...used.map((t) => (t.tolerationSeconds === undefined || t.tolerationSeconds === null ? Infinity : Math.max(0, t.tolerationSeconds))));
    if (secs === Infinity) continue;
    const added = taint.timeAdded ? Date.parse(taint.timeAdded) : firstSeen;
    at = Math.min(at, added + secs * 1000);
  }
  return at;
}

/**
 * The condition taints a node should carry for its Ready status: Unknown → unreachable, False →
 * not-ready, each as NoSchedule and NoExecute; True → none.
 */
export function desiredConditionTaintKey(readyStatus: string | undefined): string | undefined {
  if (readyStatus === 'Unknown') return TAINT_UNREACHABLE;
  if (readyStatus === 'False') return TAINT_NOT_READY;
  return undefined;
}
