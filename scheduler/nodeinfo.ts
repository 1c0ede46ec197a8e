/**
 * NodeInfo bookkeeping: a node's allocatable resources and the running sums of what its pods request,
 * updated by addPod/removePod so that no filter ever rescans the pods of a node.
 */
import type { core } from '../api/types.js';
import { cpuMillis, quantityValue } from '../api/quantity.js';
import { isNodeReady } from '../api/objects.js';
import type { Allocatable, NodeInfo, PodInfo } from './framework.js';

/** Kubernetes' default max pods per node when a node reports none. */
export const DEFAULT_MAX_PODS = 110;

export function allocatableOf(node: core.Node): Allocatable {
  const list = (node.status?.allocatable ?? node.status?.capacity ?? {}) as Record<string, string>;
  const a: Allocatable = { cpu: 0, memory: 0, ephemeral: 0, pods: DEFAULT_MAX_PODS, scalars: new Map() };
  for (const [name, q] of Object.entries(list)) {
    if (name === 'cpu') a.cpu = cpuMillis(q);
    else if (name === 'memory') a.memory = quantityValue(q);
    else if (name === 'ephemeral-storage') a.ephemeral = quantityValue(q);
    else if (name === 'pods') a.pods = quantityValue(q);
    else a.scalars.set(name, quantityValue(q));
  }
  return a;
}

export function newNodeInfo(node: core.Node): NodeInfo {
  const info: NodeInfo = {
    name: node.metadata?.name ?? '',
    node,
    labels: {},
    taints: [],
    unschedulable: false,
    ready: false,
    allocatable: allocatableOf(node),
    requestedCpu: 0,
    requestedMemory: 0,
    requestedEphemeral: 0,
    requestedScalars: new Map(),
    nonZeroCpu: 0,
    nonZeroMemory: 0,
    podCount: 0,
    usedPorts: new Map(),
    groupCounts: new Map(),
    pods: new Map(),
    podsWithAffinity: new Map(),
    podsWithRequiredAntiAffinity: new Map(),
  };
  setNode(info, node);
  return info;
}

/** Replaces the Node object (labels, taints, allocatable, readiness); pod aggregates are kept. */
export function setNode(info: NodeInfo, node: core.Node): void {
  info.node = node;
  info.labels = node.metadata?.labels ?? {};
  info.taints = node.spec?.taints ?? [];
  info.unschedulable = node.spec?.unschedulable === true;
  info.ready = isNodeReady(node);
  info.allocatable = allocatableOf(node);
}

/** A placeholder for pods whose node the scheduler has not seen yet (the Node arrives later). */
export function placeholderNodeInfo(name: string): NodeInfo {
  const info = newNodeInfo({ metadata: { name } });
  info.allocatable = { cpu: 0, memory: 0, ephemeral: 0, pods: 0, scalars: new Map() };
  return info;
}

/**
 * A copy whose pod aggregates can change without touching the original (preemption's what-if and the
 * nominated-pods check work on copies; the Node object and allocatable are shared, never mutated).
 */
export function cloneNodeInfo(info: NodeInfo): NodeInfo {
  return {
    ...info,
    requestedScalars: new Map(info.requestedScalars),
    usedPorts: new Map([...info.usedPorts].map(([k, ips]) => [k, new Map(ips)])),
    groupCounts: new Map(info.groupCounts),
    pods: new Map(info.pods),
    podsWithAffinity: new Map(info.podsWithAffinity),
    podsWithRequiredAntiAffinity: new Map(info.podsWithRequiredAntiAffinity),
  };
}

export function addPodToNode(info: NodeInfo, pod: PodInfo): void {
  if (info.pods.has(pod.uid)) return;
  info.pods.set(pod.uid, pod);
  if (pod.podAffinity) {
    info.podsWithAffinity.set(pod.uid, pod);
    if (pod.podAffinity.requiredAnti.length > 0) info.podsWithRequiredAntiAffinity.set(pod.uid, pod);
  }
  apply(info, pod, 1);
}

export function removePodFromNode(info: NodeInfo, uid: string): PodInfo | undefined {
  const pod = info.pods.get(uid);
  if (!pod) return undefined;
  info.pods.delete(uid);
  info.podsWithAffinity.delete(uid);
  info.podsWithRequiredAntiAffinity.delete(uid);
  apply(info, pod, -1);
  return pod;
}

function apply(info: NodeInfo, pod: PodInfo, sign: 1 | -1): void {
  info.podCount += sign;
  info.requestedCpu += sign * pod.cpu;
  info.requestedMemory += sign * pod.memory;
  info.requestedEphemeral += sign * pod.ephemeral;
  info.nonZeroCpu += sign * pod.nonZeroCpu;
  info.nonZeroMemory += sign * pod.nonZeroMemory;
  for (const [k, v] of pod.scalars) bump(info.requestedScalars, k, sign * v);
  for (const g of pod.groups) bump(info.groupCounts, g, sign);
  for (const hp of pod.hostPorts) {
    const pk = `${hp.protocol}/${hp.port}`;
    let ips = info.usedPorts.get(pk);
    if (!ips) info.usedPorts.set(pk, (ips = new Map()));
    bump(ips, hp.ip, sign);
    if (ips.size === 0) info.usedPorts.delete(pk);
  }
}

function bump(m: Map<string, number>, k: string, d: number): void {
  const v = (m.get(k) ?? 0) + d;
  if (v === 0) m.delete(k);
  else m.set(k, v);
}
