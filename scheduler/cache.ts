/**
 * The scheduler cache: one NodeInfo per node with the aggregates of its pods, fed by the pod and node
 * informers, plus "assumed" pods — placed by this scheduler and being bound, but not yet seen bound
 * through the watch — so that decisions made before the watch catches up never overcommit a node.
 * A failed bind `forget`s the assumed pod; the watch confirming the binding turns it into a normal pod.
 */
import type { core } from '../api/types.js';
import type { NodeInfo, PodInfo } from './framework.js';
import { addPodToNode, newNodeInfo, placeholderNodeInfo, removePodFromNode, setNode } from './nodeinfo.js';

interface PodState {
  node: string;
  assumed: boolean;
}

export class SchedulerCache {
  private readonly nodes = new Map<string, NodeInfo>();
  /** Names of nodes that exist as Node objects (pods may reference a node we have not seen). */
  private readonly real = new Set<string>();
  private nodeList: NodeInfo[] | undefined;
  private readonly pods = new Map<string, PodState>();

  /** Nodes that exist, in a stable order (rebuilt only when nodes come or go). */
  list(): readonly NodeInfo[] {
    if (!this.nodeList) this.nodeList = [...this.real].sort().map((n) => this.nodes.get(n) as NodeInfo);
    return this.nodeList;
  }

  node(name: string): NodeInfo | undefined {
    return this.real.has(name) ? this.nodes.get(name) : undefined;
  }

  get nodeCount(): number {
    return this.real.size;
  }

  addOrUpdateNode(node: core.Node): void {
    const name = node.metadata?.name ?? '';
    const info = this.nodes.get(name);
    if (info) setNode(info, node);
    else this.nodes.set(name, newNodeInfo(node));
    if (!this.real.has(name)) {
      this.real.add(name);
      this.nodeList = undefined;
    }
  }

  removeNode(name: string): void {
    if (!this.real.delete(name)) return;
    this.nodeList = undefined;
    const info = this.nodes.get(name);
    // Pods still bound to a deleted node keep their NodeInfo until they go, in case the node returns.
    if (info && info.pods.size === 0) this.nodes.delete(name);
  }

  isAssumed(uid: string): boolean {
    return this.pods.get(uid)?.assumed === true;
  }

  hasPod(uid: string): boolean {
    return this.pods.has(uid);
  }

  /** The node a pod is placed on in the cache (assumed or confirmed). */
  nodeOf(uid: string): string | undefined {
    return this.pods.get(uid)?.node;
  }

  /** Records this scheduler's decision before the binding is written. */
  assume(pod: PodInfo, nodeName: string): void {
    this.place(pod, nodeName, true);
  }

  /** Undoes `assume` after a failed bind; a pod already confirmed by the watch stays. */
  forget(uid: string): void {
    if (this.isAssumed(uid)) this.removePod(uid);
  }

  /** An assigned pod seen through the watch (confirms an assumed one, or moves it if bound elsewhere). */
  addOrUpdatePod(pod: PodInfo, nodeName: string): void {
    this.place(pod, nodeName, false);
  }

  /**
   * Points a placed pod's PodInfo at the newest object of a pod whose scheduling facts did not change (a status
   * update): nothing is recomputed, and the cache stops holding the old object — a second copy of every pod.
   */
  refreshPod(pod: core.Pod): void {
    const uid = pod.metadata?.uid ?? '';
    const info = this.nodes.get(this.pods.get(uid)?.node ?? '');
    const prev = info?.pods.get(uid);
    if (!info || !prev || prev.pod === pod) return;
    const fresh: PodInfo = { ...prev, pod, labels: pod.metadata?.labels ?? prev.labels };
    info.pods.set(uid, fresh);
    if (info.podsWithAffinity.has(uid)) info.podsWithAffinity.set(uid, fresh);
    if (info.podsWithRequiredAntiAffinity.has(uid)) info.podsWithRequiredAntiAffinity.set(uid, fresh);
  }

  removePod(uid: string): void {
    const st = this.pods.get(uid);
    if (!st) return;
    this.pods.delete(uid);
    const info = this.nodes.get(st.node);
    if (!info) return;
    removePodFromNode(info, uid);
    if (!this.real.has(st.node) && info.pods.size === 0) this.nodes.delete(st.node);
  }

  /** Rebuilds the PodInfos of one namespace (a Service changed, so spread groups may have). */
  regroup(namespace: string, rebuild: (pod: core.Pod) => PodInfo): void {
    for (const info of this.nodes.values()) {
      for (const p of [...info.pods.values()]) {
        if (p.namespace !== namespace) continue;
        // Rebuilt before it is swapped in: a pod that cannot be rebuilt keeps its old facts.
        let fresh: PodInfo;
        try {
          fresh = rebuild(p.pod);
        } catch {
          continue;
        }
        removePodFromNode(info, p.uid);
        addPodToNode(info, fresh);
      }
    }
  }

  private place(pod: PodInfo, nodeName: string, assumed: boolean): void {
    const prev = this.pods.get(pod.uid);
    if (prev) {
      const prevInfo = this.nodes.get(prev.node);
      if (prevInfo) removePodFromNode(prevInfo, pod.uid);
    }
    let info = this.nodes.get(nodeName);
    if (!info) this.nodes.set(nodeName, (info = placeholderNodeInfo(nodeName)));
    addPodToNode(info, pod);
    this.pods.set(pod.uid, { node: nodeName, assumed });
  }
}
