/** Builders of Node/Pod objects and their infos for the scheduler's unit tests and benchmark. */
import type { core } from '../api/types.js';
import type { NodeInfo, PodInfo } from './framework.js';
import { addPodToNode, newNodeInfo } from './nodeinfo.js';
import { newPodInfo } from './podinfo.js';

export interface NodeShape {
  name: string;
  cpu?: string;
  memory?: string;
  pods?: number;
  labels?: Record<string, string>;
  taints?: core.Taint[];
  unschedulable?: boolean;
  ready?: boolean;
}

export function makeNode(s: NodeShape): core.Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: s.name, labels: { 'kubernetes.io/hostname': s.name, ...s.labels } },
    spec: { ...(s.taints ? { taints: s.taints } : {}), ...(s.unschedulable ? { unschedulable: true } : {}) },
    status: {
      capacity: { cpu: s.cpu ?? '4', memory: s.memory ?? '8Gi', pods: String(s.pods ?? 110) },
      allocatable: { cpu: s.cpu ?? '4', memory: s.memory ?? '8Gi', pods: String(s.pods ?? 110) },
      conditions: [{ type: 'Ready', status: s.ready === false ? 'False' : 'True' }],
    },
  };
}

export function makePod(name: string, spec: Partial<core.PodSpec> = {}, meta: Partial<core.Pod['metadata']> = {}): core.Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, ...meta },
    spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec },
  };
}

export function requests(cpu?: string, memory?: string): core.Container {
  const r: Record<string, string> = {};
  if (cpu) r.cpu = cpu;
  if (memory) r.memory = memory;
  return { name: 'c', image: 'busybox', resources: { requests: r } };
}

export function nodeInfo(s: NodeShape, pods: core.Pod[] = []): NodeInfo {
  const info = newNodeInfo(makeNode(s));
  for (const p of pods) addPodToNode(info, newPodInfo(p));
  return info;
}

export function podInfo(name: string, spec: Partial<core.PodSpec> = {}, meta: Partial<core.Pod['metadata']> = {}): PodInfo {
  return newPodInfo(makePod(name, spec, meta));
}
