/**
 * Nominated pods, as kube-scheduler's PodNominator: pods that preempted victims on a node and wait for
 * them to go (`status.nominatedNodeName`). Filters for pods of lower or equal priority count them on that
 * node, so the room freed by the victims is not taken by someone else while they terminate.
 * Kept from this scheduler's own decisions (at once) and from the pod informer (other replicas' decisions,
 * restarts).
 */
import type { PodInfo } from './framework.js';

/** What the scheduling algorithm reads: pods nominated per node. */
export interface NominatedPods {
  /** Number of nominated pods; zero means no filter needs to look (the common case costs nothing). */
  readonly size: number;
  /** Pods nominated to the node, or undefined when none. */
  onNode(node: string): ReadonlyMap<string, PodInfo> | undefined;
}

export class Nominator implements NominatedPods {
  private readonly byNode = new Map<string, Map<string, PodInfo>>();
  private readonly nodeByUid = new Map<string, string>();

  get size(): number {
    return this.nodeByUid.size;
  }

  onNode(node: string): ReadonlyMap<string, PodInfo> | undefined {
    return this.byNode.get(node);
  }

  /** The node the pod is nominated to, if any. */
  nodeOf(uid: string): string | undefined {
    return this.nodeByUid.get(uid);
  }

  /** Nominates (or re-nominates, replacing the PodInfo) the pod to `node`. */
  add(pod: PodInfo, node: string): void {
    this.remove(pod.uid);
    let pods = this.byNode.get(node);
    if (!pods) this.byNode.set(node, (pods = new Map()));
    pods.set(pod.uid, pod);
    this.nodeByUid.set(pod.uid, node);
  }

  remove(uid: string): void {
    const node = this.nodeByUid.get(uid);
    if (node === undefined) return;
    this.nodeByUid.delete(uid);
    const pods = this.byNode.get(node);
    pods?.delete(uid);
    if (pods?.size === 0) this.byNode.delete(node);
  }

  /** Pods nominated to `node` with a priority below `priority` (their nomination no longer holds after a preemption there). */
  lowerPriorityOn(node: string, priority: number): PodInfo[] {
    return [...(this.byNode.get(node)?.values() ?? [])].filter((p) => p.priority < priority);
  }
}
