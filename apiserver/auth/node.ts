/**
 * The Node authorizer (plugin/pkg/auth/authorizer/node/node_authorizer.go): a kubelet (`system:node:<name>`
 * in `system:nodes`) may read a Secret, ConfigMap, PersistentVolumeClaim or PersistentVolume only when a
 * pod bound to its node references it, request a ServiceAccount token only for such a pod's account,
 * and touch only its own Lease; everything else it asks is held against the static node rules.
 * Kubernetes keeps a graph updated by informers; here the relation is read from the pod watch cache on
 * demand (a kubelet reads these objects rarely, and only its pods are scanned).
 */
import type { KObject } from '../../api/types.js';
import type { Attributes, AuthorizationResult } from './attributes.js';
import { NODE_RULES } from './bootstrap.js';
import { ruleAllows } from './rbac.js';
import { NODES_GROUP } from './user.js';

/** What the Node authorizer reads: pods by node, and PVCs (a PV is reached through its claim). */
export interface NodeGraphSource {
  podsOnNode(node: string): Iterable<KObject>;
  pvc(namespace: string, name: string): KObject | undefined;
}

type Kind = 'secret' | 'configmap' | 'pvc' | 'pv' | 'serviceaccount';

interface PodSpecLike {
  serviceAccountName?: string;
  imagePullSecrets?: { name?: string }[];
  volumes?: {
    secret?: { secretName?: string };
    configMap?: { name?: string };
    persistentVolumeClaim?: { claimName?: string };
    projected?: { sources?: { secret?: { name?: string }; configMap?: { name?: string } }[] };
    ephemeral?: unknown;
    name?: string;
  }[];
  containers?: ContainerLike[];
  initContainers?: ContainerLike[];
  ephemeralContainers?: ContainerLike[];
}
interface ContainerLike {
  env?: { valueFrom?: { secretKeyRef?: { name?: string }; configMapKeyRef?: { name?: string } } }[];
  envFrom?: { secretRef?: { name?: string }; configMapRef?: { name?: string } }[];
}

/** The objects of `kind` a pod references (Kubernetes' graph_populator AddPod edges). */
export function podReferences(pod: KObject, kind: Kind): Set<string> {
  const spec = (pod.spec ?? {}) as PodSpecLike;
  const out = new Set<string>();
  const add = (n: string | undefined): void => {
    if (n) out.add(n);
  };
  const containers = [...(spec.containers ?? []), ...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? [])];
  switch (kind) {
    case 'serviceaccount':
      add(spec.serviceAccountName || 'default');
      break;
    case 'secret':
      for (const s of spec.imagePullSecrets ?? []) add(s.name);
      for (const v of spec.volumes ?? []) {
        add(v.secret?.secretName);
        for (const src of v.projected?.sources ?? []) add(src.secret?.name);
      }
      for (const c of containers) {
        for (const e of c.env ?? []) add(e.valueFrom?.secretKeyRef?.name);
        for (const e of c.envFrom ?? []) add(e.secretRef?.name);
      }
      break;
    case 'configmap':
      for (const v of spec.volumes ?? []) {
        add(v.configMap?.name);
        for (const src of v.projected?.sources ?? []) add(src.configMap?.name);
      }
      for (const c of containers) {
        for (const e of c.env ?? []) add(e.valueFrom?.configMapKeyRef?.name);
        for (const e of c.envFrom ?? []) add(e.configMapRef?.name);
      }
      break;
    case 'pvc':
      for (const v of spec.volumes ?? []) {
        add(v.persistentVolumeClaim?.claimName);
        // A generic ephemeral volume's claim is named <pod>-<volume>.
        if (v.ephemeral && v.name) add(`${pod.metadata?.name ?? ''}-${v.name}`);
      }
      break;
    case 'pv':
      break;
  }
  return out;
}

function hasPath(src: NodeGraphSource, node: string, kind: Kind, namespace: string, name: string): boolean {
  for (const pod of src.podsOnNode(node)) {
    if (kind === 'pv') {
      for (const claim of podReferences(pod, 'pvc')) {
        const pvc = src.pvc(pod.metadata?.namespace ?? '', claim);
        if ((pvc?.spec as { volumeName?: string } | undefined)?.volumeName === name) return true;
      }
      continue;
    }
    if ((pod.metadata?.namespace ?? '') !== namespace) continue;
    if (podReferences(pod, kind).has(name)) return true;
  }
  return false;
}

const noOpinion = (reason: string): AuthorizationResult => ({ decision: 'NoOpinion', reason });
const ALLOW: AuthorizationResult = { decision: 'Allow', reason: '' };

export function nodeAuthorize(src: NodeGraphSource, a: Attributes): AuthorizationResult {
  if (!a.user.groups.includes(NODES_GROUP)) return noOpinion('');
  const node = a.user.name.startsWith('system:node:') ? a.user.name.slice('system:node:'.length) : '';
  if (!node) return noOpinion(`unknown node for user ${JSON.stringify(a.user.name)}`);
  const authorize = (kind: Kind): AuthorizationResult => {
    if (!a.name) return noOpinion('No Object name found');
    return hasPath(src, node, kind, a.namespace, a.name) ? ALLOW : noOpinion(`no relationship found between node '${node}' and this object`);
  };
  if (a.resourceRequest && a.apiGroup === '') {
    switch (a.resource) {
      case 'secrets':
      case 'configmaps': {
        if (!['get', 'list', 'watch'].includes(a.verb)) return noOpinion('can only read resources of this type');
        if (a.subresource) return noOpinion('cannot read subresource');
        if (!a.namespace) return noOpinion('can only read namespaced object of this type');
        return authorize(a.resource === 'secrets' ? 'secret' : 'configmap');
      }
      case 'persistentvolumeclaims':
        if (a.subresource === 'status') {
          if (a.verb !== 'update' && a.verb !== 'patch') return noOpinion('can only get or update persistentvolumeclaim status');
          return authorize('pvc');
        }
        if (a.verb !== 'get') return noOpinion('can only get individual resources of this type');
        if (a.subresource) return noOpinion('cannot get subresource');
        return authorize('pvc');
      case 'persistentvolumes':
        if (a.verb !== 'get') return noOpinion('can only get individual resources of this type');
        if (a.subresource) return noOpinion('cannot get subresource');
        return authorize('pv');
      case 'serviceaccounts':
        if (a.subresource || a.verb === 'create') {
          if (a.verb !== 'create' || !a.name) return noOpinion('can only create tokens for individual service accounts');
          if (a.subresource !== 'token') return noOpinion('can only create token subresource of serviceaccount');
          return authorize('serviceaccount');
        }
        break;
    }
  }
  if (a.resourceRequest && a.apiGroup === 'coordination.k8s.io' && a.resource === 'leases') {
    if (!['get', 'create', 'update', 'patch', 'delete'].includes(a.verb)) return noOpinion('can only get, create, update, patch, or delete a node lease');
    if (a.namespace !== 'kube-node-lease') return noOpinion('can only access leases in the "kube-node-lease" system namespace');
    if (a.verb !== 'create' && a.name !== node) return noOpinion('can only access node lease with the same name as the requesting node');
    return ALLOW;
  }
  for (const r of NODE_RULES) if (ruleAllows(a, r)) return ALLOW;
  return noOpinion('');
}
