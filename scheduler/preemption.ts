/**
 * DefaultPreemption, kube-scheduler's PostFilter: when a pod fits nowhere, find nodes where deleting pods
 * of lower priority would let it fit, pick the victims on each (remove every lower-priority pod, then give
 * back, most important first, each one the pod still fits beside — "reprieve"; PodDisruptionBudget-guarded
 * pods are given back first), and choose one node by Kubernetes' order. Pure: the caller supplies the
 * filter verdicts, a "does it fit on this modified node" function and the budgets, and carries out the
 * result (nominate, delete victims).
 */
import type { policy } from '../api/types.js';
import { budgetSelects } from '../api/disruption.js';
import { ERR_PREEMPTION_NOT_HELPFUL, Diagnosis, preemptionFitMessage } from './diagnosis.js';
import { errorStatus, unresolvable, type NodeInfo, type PodInfo, type Status } from './framework.js';
import { addPodToNode, cloneNodeInfo, removePodFromNode } from './nodeinfo.js';

export const ERR_NO_VICTIMS = 'No preemption victims found for incoming pod';
export const NOT_ELIGIBLE_NEVER = 'not eligible due to preemptionPolicy=Never.';
export const NOT_ELIGIBLE_TERMINATING = 'not eligible due to a terminating pod on the nominated node.';

/** kube-scheduler's DefaultPreemption args: candidates to find before choosing (at least 10% of nodes, at least 100). */
export const MIN_CANDIDATE_NODES_PERCENTAGE = 10;
export const MIN_CANDIDATE_NODES_ABSOLUTE = 100;

/** A node where the pod fits once `victims` (most important first) are deleted. */
export interface Candidate {
  readonly node: string;
  readonly victims: readonly PodInfo[];
  /** Victims whose deletion a PodDisruptionBudget does not allow. */
  readonly numPDBViolations: number;
}

/** When the pod started (status.startTime), or `now` for pods not started yet (as GetPodStartTime). */
export function podStartTime(pod: PodInfo, now: number): number {
  const t = pod.pod.status?.startTime;
  const ms = t ? Date.parse(t) : NaN;
  return Number.isNaN(ms) ? now : ms;
}

/** Sort order of kube-scheduler's MoreImportantPod: higher priority first, then the one running longer. */
export function moreImportantFirst(now: number): (a: PodInfo, b: PodInfo) => number {
  return (a, b) => b.priority - a.priority || podStartTime(a, now) - podStartTime(b, now);
}

/**
 * Splits pods (kept in order) into those whose deletion would exceed a budget's `status.disruptionsAllowed`
 * and the others, charging each matching budget once per pod, as filterPodsWithPDBViolation. Pods the
 * budget already lists in `disruptedPods` are being evicted and not charged again.
 */
export function splitByPDBViolation(
  pods: readonly PodInfo[],
  pdbs: readonly policy.PodDisruptionBudget[],
): { violating: PodInfo[]; nonViolating: PodInfo[] } {
  const allowed = pdbs.map((b) => b.status?.disruptionsAllowed ?? 0);
  const violating: PodInfo[] = [];
  const nonViolating: PodInfo[] = [];
  for (const p of pods) {
    let violated = false;
    for (let i = 0; i < pdbs.length; i++) {
      if (!budgetSelects(pdbs[i], p.pod)) continue;
      if (pdbs[i].status?.disruptedPods?.[p.name] !== undefined) continue;
      if (--allowed[i] < 0) violated = true;
    }
    (violated ? violating : nonViolating).push(p);
  }
  return { violating, nonViolating };
}

/** Whether the pod fits on a (modified copy of a) node: undefined when it does, else the failing status. */
export type FitsOn = (node: NodeInfo) => Status | undefined;

export type VictimSelection = { readonly candidate: Candidate } | { readonly status: Status };

/**
 * SelectVictimsOnNode: on a copy of the node, removes every pod of lower priority than `pod`; if the pod
 * then fits, adds them back most important first — PDB-violating ones before the others — keeping each
 * one the pod still fits beside. The rest are the victims: the smallest lower-priority set in that order.
 */
export function selectVictimsOnNode(pod: PodInfo, node: NodeInfo, fits: FitsOn, pdbs: readonly policy.PodDisruptionBudget[], now: number): VictimSelection {
  const lower: PodInfo[] = [];
  for (const p of node.pods.values()) if (p.priority < pod.priority) lower.push(p);
  if (lower.length === 0) return { status: unresolvable(ERR_NO_VICTIMS) };
  const copy = cloneNodeInfo(node);
  for (const p of lower) removePodFromNode(copy, p.uid);
  const fail = fits(copy);
  if (fail) return { status: fail };
  const order = moreImportantFirst(now);
  lower.sort(order);
  const { violating, nonViolating } = splitByPDBViolation(lower, pdbs);
  const victims: PodInfo[] = [];
  const reprieve = (p: PodInfo): boolean => {
    addPodToNode(copy, p);
    if (!fits(copy)) return true;
    removePodFromNode(copy, p.uid);
    victims.push(p);
    return false;
  };
  let numPDBViolations = 0;
  for (const p of violating) if (!reprieve(p)) numPDBViolations++;
  for (const p of nonViolating) reprieve(p);
  if (victims.length === 0) return { status: errorStatus(`expected at least one victim pod on node "${node.name}"`) };
  if (violating.length > 0 && nonViolating.length > 0) victims.sort(order);
  return { candidate: { node: node.name, victims, numPDBViolations } };
}

/** How many candidates to find before choosing (calculateNumCandidates). */
export function numCandidates(numNodes: number): number {
  const n = Math.max(Math.floor((numNodes * MIN_CANDIDATE_NODES_PERCENTAGE) / 100), MIN_CANDIDATE_NODES_ABSOLUTE);
  return Math.min(n, numNodes);
}

/** Kubernetes adds MaxInt32+1 to each victim's priority before summing, so more victims always weigh more. */
const PRIORITY_OFFSET = 2 ** 31;

/**
 * pickOneNodeForPreemption: fewest PDB violations, then the lowest highest-victim priority, then the
 * smallest sum of victim priorities, then the fewest victims, then the latest start among the
 * highest-priority victims (disturb the newest work); the first remaining one otherwise.
 */
export function pickCandidate(candidates: readonly Candidate[], now: number): Candidate | undefined {
  let rest = [...candidates];
  const keepMin = (score: (c: Candidate) => number): void => {
    if (rest.length <= 1) return;
    const scores = rest.map(score);
    const best = Math.min(...scores);
    rest = rest.filter((_, i) => scores[i] === best);
  };
  keepMin((c) => c.numPDBViolations);
  keepMin((c) => c.victims[0]?.priority ?? 0);
  keepMin((c) => c.victims.reduce((sum, v) => sum + v.priority + PRIORITY_OFFSET, 0));
  keepMin((c) => c.victims.length);
  keepMin((c) => -earliestStartOfHighestPriority(c.victims, now));
  return rest[0];
}

function earliestStartOfHighestPriority(victims: readonly PodInfo[], now: number): number {
  const top = victims[0]?.priority;
  let earliest = Infinity;
  for (const v of victims) if (v.priority === top) earliest = Math.min(earliest, podStartTime(v, now));
  return earliest;
}

/**
 * PodEligibleToPreemptOthers: a pod with preemptionPolicy Never never preempts; a pod already nominated to
 * a node where a lower-priority pod is still terminating waits for it instead of preempting again (unless
 * the nominated node became unusable for reasons preemption cannot fix). Returns the reason when not.
 */
export function notEligibleReason(pod: PodInfo, nominated: NodeInfo | undefined, nominatedStatus: Status | undefined): string | undefined {
  if (pod.pod.spec?.preemptionPolicy === 'Never') return NOT_ELIGIBLE_NEVER;
  if (!nominated || nominatedStatus?.code === 'UnschedulableAndUnresolvable') return undefined;
  for (const p of nominated.pods.values()) if (p.priority < pod.priority && p.pod.metadata?.deletionTimestamp) return NOT_ELIGIBLE_TERMINATING;
  return undefined;
}

export interface PreemptionInput {
  readonly pod: PodInfo;
  /** Every node, and each one's filter verdict for the pod (undefined: fits), in the same order. */
  readonly nodes: readonly NodeInfo[];
  readonly statuses: readonly (Status | undefined)[];
  /** The node the pod is nominated to already, if any. */
  readonly nominatedNode?: string;
  readonly pdbs: readonly policy.PodDisruptionBudget[];
  readonly fits: (pod: PodInfo, changed: NodeInfo) => Status | undefined;
  readonly now: number;
  readonly random: () => number;
}

/**
 * What preemption decided. `nominate`: delete the candidate's victims and nominate the pod to its node.
 * `wait`: not eligible; keep any nomination. `none`: no node helps; clear any nomination. `message` is
 * the FailedScheduling suffix ("preemption: …"), empty after a successful preemption.
 */
export type PreemptionResult =
  | { readonly kind: 'nominate'; readonly candidate: Candidate; readonly message: '' }
  | { readonly kind: 'wait'; readonly message: string }
  | { readonly kind: 'none'; readonly message: string };

/** Evaluator.Preempt: eligibility, candidates from a random offset (dry run), the best one. */
export function preempt(input: PreemptionInput): PreemptionResult {
  const { pod, nodes, statuses } = input;
  const nominatedIdx = input.nominatedNode === undefined ? -1 : nodes.findIndex((n) => n.name === input.nominatedNode);
  const reason = notEligibleReason(pod, nominatedIdx >= 0 ? nodes[nominatedIdx] : undefined, nominatedIdx >= 0 ? statuses[nominatedIdx] : undefined);
  if (reason) return { kind: 'wait', message: `preemption: ${reason}` };

  // Only nodes that failed with plain Unschedulable may be helped by removing pods.
  const potential = nodes.filter((_, i) => statuses[i]?.code === 'Unschedulable');
  const diagnosis = new Diagnosis();
  const checked = new Set<string>();
  const candidates: Candidate[] = [];
  if (potential.length > 0) {
    const want = numCandidates(potential.length);
    const offset = Math.floor(input.random() * potential.length);
    let nonViolating = 0;
    for (let i = 0; i < potential.length; i++) {
      const node = potential[(offset + i) % potential.length];
      const r = selectVictimsOnNode(pod, node, (copy) => input.fits(pod, copy), input.pdbs, input.now);
      if ('candidate' in r) {
        candidates.push(r.candidate);
        if (r.candidate.numPDBViolations === 0) nonViolating++;
        if (nonViolating > 0 && candidates.length >= want) break;
        continue;
      }
      checked.add(node.name);
      diagnosis.add(r.status.reasons);
    }
  }
  const best = pickCandidate(candidates, input.now);
  if (best) return { kind: 'nominate', candidate: best, message: '' };
  const notHelpful = nodes.length - checked.size;
  if (notHelpful > 0) diagnosis.reasons.set(ERR_PREEMPTION_NOT_HELPFUL, notHelpful);
  return { kind: 'none', message: preemptionFitMessage(nodes.length, diagnosis) };
}
