/**
 * The "why not" summary of a failed scheduling attempt, worded as kube-scheduler words it, e.g.
 * "0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu. preemption: 0/3 nodes are
 * available: 3 Preemption is not helpful for scheduling."
 * Reasons are counted across nodes and sorted as strings ("<count> <reason>"), as the FitError does.
 */

/** Counts of each reason across the nodes that did not fit. */
export class Diagnosis {
  readonly reasons = new Map<string, number>();

  add(reasons: readonly string[]): void {
    for (const r of reasons) this.reasons.set(r, (this.reasons.get(r) ?? 0) + 1);
  }
}

/** "<count> <reason>" entries sorted as strings, as kube-scheduler's FitError lists them. */
function histogram(diagnosis: Diagnosis): string {
  return [...diagnosis.reasons].map(([reason, count]) => `${count} ${reason}`).sort().join(', ');
}

/** Kubernetes' reason for nodes preemption cannot help (filtered out as UnschedulableAndUnresolvable). */
export const ERR_PREEMPTION_NOT_HELPFUL = 'Preemption is not helpful for scheduling';

/**
 * The PostFilter (DefaultPreemption) part of the message when no candidate node was found: a FitError of
 * its own, e.g. "preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No
 * preemption victims found for incoming pod."
 */
export function preemptionFitMessage(numAllNodes: number, diagnosis: Diagnosis): string {
  const reasons = histogram(diagnosis);
  return `preemption: 0/${numAllNodes} nodes are available${reasons ? `: ${reasons}` : ''}.`;
}

/**
 * The FailedScheduling message: the filter reasons, then what preemption said (`postFilter`, already
 * prefixed "preemption: "; empty after a successful preemption, which adds nothing, as in Kubernetes).
 * Without `postFilter` every node is reported as one where preemption would not help.
 */
export function fitErrorMessage(numAllNodes: number, diagnosis: Diagnosis, postFilter?: string): string {
  if (numAllNodes === 0) return `no nodes available to schedule pods`;
  const reasons = histogram(diagnosis);
  const head = `0/${numAllNodes} nodes are available${reasons ? `: ${reasons}` : ''}.`;
  if (postFilter === undefined) {
    const all = new Diagnosis();
    all.reasons.set(ERR_PREEMPTION_NOT_HELPFUL, numAllNodes);
    postFilter = preemptionFitMessage(numAllNodes, all);
  }
  return postFilter ? `${head} ${postFilter}` : head;
}
