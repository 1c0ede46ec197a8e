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

/**
 * kubelab does not preempt, so every node is reported as one where preemption would not help — the message
 * tells the user that waiting for a victim is pointless.
 */
export function fitErrorMessage(numAllNodes: number, diagnosis: Diagnosis): string {
  const head = `0/${numAllNodes} nodes are available`;
  if (numAllNodes === 0) return `no nodes available to schedule pods`;
  const parts = [...diagnosis.reasons].map(([reason, count]) => `${count} ${reason}`).sort();
  const reasons = parts.length > 0 ? `: ${parts.join(', ')}.` : '.';
  return `${head}${reasons} preemption: ${head}: ${numAllNodes} Preemption is not helpful for scheduling.`;
}
