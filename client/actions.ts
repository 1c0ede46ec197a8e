/**
 * Operator actions on the API shared by the kubelab CLI (`kubelab scale`, `kubelab node cordon|uncordon|drain`)
 * and the dashboard's buttons, so both do exactly the same thing. Each returns a one-line summary.
 * Node faults (crash, partition, heal, restart) act on Docker, not the API: they live in cli/lab.
 */
import type { ApiClient } from './api.js';
import { ApiError, isNotFound } from '../api/errors.js';
import type { core } from '../api/types.js';

export const SCALABLE_RESOURCES: ReadonlySet<string> = new Set(['deployments', 'replicasets', 'statefulsets']);

/** Sets spec.replicas through the scale subresource (kubectl scale). */
export async function scaleWorkload(client: ApiClient, resource: string, namespace: string, name: string, replicas: number, currentReplicas?: number): Promise<string> {
  if (!SCALABLE_RESOURCES.has(resource)) throw new ApiError('BadRequest', `cannot scale ${resource}: expected deployments, replicasets or statefulsets`);
  if (!Number.isInteger(replicas) || replicas < 0) throw new ApiError('BadRequest', `replicas must be an integer >= 0 (got ${replicas})`);
  if (currentReplicas === undefined) {
    // As kubectl scale: a merge patch of the scale subresource, which no concurrent writer makes conflict.
    await client.patch(resource, name, { spec: { replicas } }, { namespace, subresource: 'scale', type: 'merge' });
    return `${resource}/${name} scaled to ${replicas}`;
  }
  // --current-replicas is a precondition: read, check, write with that resourceVersion (409 if it moved).
  const scale = await client.get(resource, name, { namespace, subresource: 'scale' });
  const cur = (scale.spec as { replicas?: number } | undefined)?.replicas ?? 0;
  if (currentReplicas !== cur) throw new ApiError('Conflict', `Expected replicas to be ${currentReplicas}, was ${cur}`);
  await client.update(resource, { ...scale, spec: { replicas } }, { subresource: 'scale' });
  return `${resource}/${name} scaled to ${replicas}`;
}

/** kubectl cordon / uncordon: spec.unschedulable. */
export async function setUnschedulable(client: ApiClient, node: string, unschedulable: boolean): Promise<string> {
  await client.patch('nodes', node, { spec: { unschedulable: unschedulable ? true : null } }, { type: 'merge' });
  return `node/${node} ${unschedulable ? 'cordoned' : 'uncordoned'}`;
}

function isDaemonSetPod(p: core.Pod): boolean {
  return (p.metadata?.ownerReferences ?? []).some((o) => o.kind === 'DaemonSet' && o.controller);
}

/**
 * kubectl drain --ignore-daemonsets --delete-emptydir-data, once: cordon, then evict every pod on the node
 * except DaemonSet pods and pods already terminating. Evictions a PodDisruptionBudget refuses (429) are
 * reported, not retried: run it again once replacements are ready.
 */
export async function drainNode(client: ApiClient, node: string): Promise<string> {
  await setUnschedulable(client, node, true);
  const pods = (await client.list('pods', { fieldSelector: `spec.nodeName=${node}` })).items;
  let evicted = 0;
  const refused: string[] = [];
  for (const p of pods) {
    if (isDaemonSetPod(p) || p.metadata?.deletionTimestamp || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
    const ns = p.metadata?.namespace ?? 'default';
    const name = p.metadata?.name ?? '';
    try {
      await client.evict(ns, name);
      evicted++;
    } catch (err) {
      if (isNotFound(err)) continue;
      if (err instanceof ApiError && err.reason === 'TooManyRequests') refused.push(`${ns}/${name}`);
      else throw err;
    }
  }
  return `node/${node} drained: ${evicted} pod(s) evicted` + (refused.length ? `; a disruption budget refused ${refused.join(', ')} — drain again once replacements are ready` : '');
}

/** Deletes one pod with its own grace period (kubectl delete pod). */
export async function deletePod(client: ApiClient, namespace: string, name: string): Promise<string> {
  await client.delete('pods', name, { namespace });
  return `pod/${name} deleted`;
}

/** One permission, as `kubectl auth can-i VERB GROUP/RESOURCE[/SUBRESOURCE]` asks it (all namespaces). */
export interface Permission {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
}

/** `kubectl auth can-i`: asks the apiserver (SelfSubjectAccessReview) whether this client's identity may. */
export async function canI(client: ApiClient, p: Permission): Promise<boolean> {
  const review = (await client.create('selfsubjectaccessreviews', {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    metadata: {},
    spec: { resourceAttributes: { verb: p.verb, group: p.group, resource: p.resource, ...(p.subresource ? { subresource: p.subresource } : {}) } },
  } as never)) as { status?: { allowed?: boolean } };
  return review.status?.allowed === true;
}

/** `patch nodes`, `create pods/eviction`: how a permission reads in a message. */
export function permissionText(p: Permission): string {
  return `${p.verb} ${p.group ? `${p.resource}.${p.group}` : p.resource}${p.subresource ? `/${p.subresource}` : ''}`;
}
