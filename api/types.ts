/** Kubernetes object types (from the types-only `kubernetes-types` package) keyed by resource name. */
import type * as core from 'kubernetes-types/core/v1.js';
import type * as apps from 'kubernetes-types/apps/v1.js';
import type * as batch from 'kubernetes-types/batch/v1.js';
import type * as coordination from 'kubernetes-types/coordination/v1.js';
import type * as storage from 'kubernetes-types/storage/v1.js';
import type * as scheduling from 'kubernetes-types/scheduling/v1.js';
import type * as policy from 'kubernetes-types/policy/v1.js';
import type * as discovery from 'kubernetes-types/discovery/v1.js';
import type * as rbac from 'kubernetes-types/rbac/v1.js';
import type * as autoscaling from 'kubernetes-types/autoscaling/v2.js';
import type * as networking from 'kubernetes-types/networking/v1.js';
import type { ObjectMeta, ListMeta } from 'kubernetes-types/meta/v1.js';

export type { core, apps, batch, coordination, storage, scheduling, policy, discovery, rbac, autoscaling, networking, ObjectMeta, ListMeta };

/** Removes `readonly` (kubernetes-types marks server-owned fields readonly; the apiserver owns them). */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Any Kubernetes-shaped object. */
export interface KObject {
  apiVersion?: string;
  kind?: string;
  metadata?: Mutable<ObjectMeta>;
  [key: string]: unknown;
}

export interface ResourceTypes {
  namespaces: core.Namespace;
  nodes: core.Node;
  pods: core.Pod;
  services: core.Service;
  endpoints: core.Endpoints;
  configmaps: core.ConfigMap;
  secrets: core.Secret;
  serviceaccounts: core.ServiceAccount;
  events: core.Event;
  persistentvolumes: core.PersistentVolume;
  persistentvolumeclaims: core.PersistentVolumeClaim;
  leases: coordination.Lease;
  replicasets: apps.ReplicaSet;
  deployments: apps.Deployment;
  statefulsets: apps.StatefulSet;
  daemonsets: apps.DaemonSet;
  controllerrevisions: apps.ControllerRevision;
  jobs: batch.Job;
  cronjobs: batch.CronJob;
  storageclasses: storage.StorageClass;
  priorityclasses: scheduling.PriorityClass;
  poddisruptionbudgets: policy.PodDisruptionBudget;
  endpointslices: discovery.EndpointSlice;
  roles: rbac.Role;
  rolebindings: rbac.RoleBinding;
  clusterroles: rbac.ClusterRole;
  clusterrolebindings: rbac.ClusterRoleBinding;
  horizontalpodautoscalers: autoscaling.HorizontalPodAutoscaler;
  ingresses: networking.Ingress;
  ingressclasses: networking.IngressClass;
}

export type ResourceName = keyof ResourceTypes;

/** The object type served for a resource name (KObject for names not in the table). */
export type TypeOf<R extends string> = R extends ResourceName ? ResourceTypes[R] : KObject;

export interface ObjectList<T> {
  apiVersion: string;
  kind: string;
  metadata: ListMeta;
  items: T[];
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

export interface WatchEvent<T> {
  type: WatchEventType;
  object: T;
}

/** `namespace/name` for namespaced objects, `name` for cluster-scoped ones: the work-queue key. */
export function keyOf(obj: { metadata?: ObjectMeta }): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return ns ? `${ns}/${name}` : name;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
