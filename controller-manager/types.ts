/** Cached object types as the shared informers hand them out (Kubernetes types that are also KObjects). */
import type { KObject, Mutable, apps, batch, coordination, core } from '../api/types.js';

export type Pod = core.Pod & KObject;
export type Node = core.Node & KObject;
export type ReplicaSet = apps.ReplicaSet & KObject;
export type Deployment = apps.Deployment & KObject;
export type StatefulSet = apps.StatefulSet & KObject;
export type DaemonSet = apps.DaemonSet & KObject;
export type Job = batch.Job & KObject;
export type CronJob = batch.CronJob & KObject;
export type Lease = coordination.Lease & KObject;

/** A private, writable copy of a cached object (status included). */
export function writable<T extends object>(obj: T): Mutable<T> {
  return structuredClone(obj) as Mutable<T>;
}
