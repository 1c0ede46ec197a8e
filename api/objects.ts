/** Small helpers over Kubernetes objects shared by every component. */
import type { core } from './types.js';
import type { KObject } from './types.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';

export function clone<T>(obj: T): T {
  return structuredClone(obj);
}

export function controllerRef(obj: KObject): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true);
}

export function ownerRefTo(owner: KObject, opts: { blockOwnerDeletion?: boolean } = {}): OwnerReference {
  return {
    apiVersion: owner.apiVersion ?? '',
    kind: owner.kind ?? '',
    name: owner.metadata?.name ?? '',
    uid: owner.metadata?.uid ?? '',
    controller: true,
    blockOwnerDeletion: opts.blockOwnerDeletion ?? true,
  };
}

export function podCondition(pod: core.Pod, type: string): core.PodCondition | undefined {
  return pod.status?.conditions?.find((c) => c.type === type);
}

export function isPodReady(pod: core.Pod): boolean {
  return podCondition(pod, 'Ready')?.status === 'True';
}

/** Terminal pods (Succeeded/Failed) and pods being deleted are not "active" for controllers. */
export function isPodActive(pod: core.Pod): boolean {
  return pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed' && !pod.metadata?.deletionTimestamp;
}

export function nodeCondition(node: core.Node, type: string): core.NodeCondition | undefined {
  return node.status?.conditions?.find((c) => c.type === type);
}

export function isNodeReady(node: core.Node): boolean {
  return nodeCondition(node, 'Ready')?.status === 'True';
}

/** Kubernetes' time format for metadata timestamps (seconds precision, UTC). */
export function nowTimestamp(ms: number = Date.now()): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** MicroTime form used by Leases and events.k8s.io. */
export function nowMicroTime(ms: number = Date.now()): string {
  return new Date(ms).toISOString().replace('Z', '000Z');
}

/** The 5 random characters the apiserver appends to a generateName (Kubernetes' SimpleNameGenerator: no vowels, no 0/1/3). */
export function generateNameSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let s = '';
  for (let i = 0; i < 5; i++) s += alphabet[Math.floor(Math.random() * alphabet.length)];
  return s;
}
