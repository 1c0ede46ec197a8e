/**
 * The resource table shared by the apiserver, the REST facade, the client library and the CLI:
 * one entry per served resource, with the names kubectl knows it by.
 */
export interface ResourceInfo {
  /** Plural lower-case name, the key in URLs and etcd (`pods`). */
  readonly resource: string;
  readonly singular: string;
  readonly kind: string;
  readonly listKind: string;
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly subresources: readonly string[];
  readonly categories: readonly string[];
  /** Whether the main resource carries a `status` that only the status subresource may change. */
  readonly hasStatus: boolean;
  readonly verbs: readonly string[];
  /** Not stored: a request/response kind answered on create (the access and identity reviews). */
  readonly virtual?: boolean;
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;

function r(
  resource: string,
  kind: string,
  group: string,
  version: string,
  namespaced: boolean,
  opts: { short?: string[]; sub?: string[]; status?: boolean; all?: boolean; singular?: string; virtual?: boolean } = {},
): ResourceInfo {
  return {
    resource,
    singular: opts.singular ?? kind.toLowerCase(),
    kind,
    listKind: `${kind}List`,
    group,
    version,
    namespaced,
    shortNames: opts.short ?? [],
    subresources: opts.sub ?? (opts.status ? ['status'] : []),
    categories: opts.all ? ['all'] : [],
    hasStatus: opts.status ?? false,
    verbs: opts.virtual ? ['create'] : ALL_VERBS,
    ...(opts.virtual ? { virtual: true } : {}),
  };
}

/** The Kubernetes version kubelab's API follows: the apiserver reports it, kubelets report `<it>-kubelab`. */
export const KUBERNETES_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0' } as const;

export const RESOURCES: readonly ResourceInfo[] = [
  r('namespaces', 'Namespace', '', 'v1', false, { short: ['ns'], sub: ['status', 'finalize'], status: true }),
  r('nodes', 'Node', '', 'v1', false, { short: ['no'], sub: ['status', 'proxy'], status: true }),
  r('pods', 'Pod', '', 'v1', true, {
    short: ['po'],
    sub: ['status', 'binding', 'eviction', 'ephemeralcontainers', 'log', 'exec', 'attach', 'portforward'],
    status: true,
    all: true,
  }),
  r('services', 'Service', '', 'v1', true, { short: ['svc'], sub: ['status'], status: true, all: true }),
  r('endpoints', 'Endpoints', '', 'v1', true, { short: ['ep'], singular: 'endpoints' }),
  r('configmaps', 'ConfigMap', '', 'v1', true, { short: ['cm'] }),
  r('secrets', 'Secret', '', 'v1', true),
  r('serviceaccounts', 'ServiceAccount', '', 'v1', true, { short: ['sa'], sub: ['token'] }),
  r('events', 'Event', '', 'v1', true, { short: ['ev'] }),
  r('persistentvolumes', 'PersistentVolume', '', 'v1', false, { short: ['pv'], status: true }),
  r('persistentvolumeclaims', 'PersistentVolumeClaim', '', 'v1', true, { short: ['pvc'], status: true }),
  r('leases', 'Lease', 'coordination.k8s.io', 'v1', true),
  r('replicasets', 'ReplicaSet', 'apps', 'v1', true, { short: ['rs'], sub: ['status', 'scale'], status: true, all: true }),
  r('deployments', 'Deployment', 'apps', 'v1', true, { short: ['deploy'], sub: ['status', 'scale'], status: true, all: true }),
  r('statefulsets', 'StatefulSet', 'apps', 'v1', true, { short: ['sts'], sub: ['status', 'scale'], status: true, all: true }),
  r('daemonsets', 'DaemonSet', 'apps', 'v1', true, { short: ['ds'], sub: ['status'], status: true, all: true }),
  r('controllerrevisions', 'ControllerRevision', 'apps', 'v1', true),
  r('jobs', 'Job', 'batch', 'v1', true, { sub: ['status'], status: true, all: true }),
  r('cronjobs', 'CronJob', 'batch', 'v1', true, { short: ['cj'], sub: ['status'], status: true, all: true }),
  r('storageclasses', 'StorageClass', 'storage.k8s.io', 'v1', false, { short: ['sc'] }),
  r('priorityclasses', 'PriorityClass', 'scheduling.k8s.io', 'v1', false, { short: ['pc'] }),
  r('poddisruptionbudgets', 'PodDisruptionBudget', 'policy', 'v1', true, { short: ['pdb'], sub: ['status'], status: true }),
  r('endpointslices', 'EndpointSlice', 'discovery.k8s.io', 'v1', true),
  r('ingressclasses', 'IngressClass', 'networking.k8s.io', 'v1', false),
  r('ingresses', 'Ingress', 'networking.k8s.io', 'v1', true, { short: ['ing'], status: true }),
  r('horizontalpodautoscalers', 'HorizontalPodAutoscaler', 'autoscaling', 'v2', true, { short: ['hpa'], status: true, all: true }),
  // RBAC objects restrict requests when the apiserver runs with --authorization-mode=...,RBAC (apiserver/auth/).
  r('roles', 'Role', 'rbac.authorization.k8s.io', 'v1', true),
  r('rolebindings', 'RoleBinding', 'rbac.authorization.k8s.io', 'v1', true),
  r('clusterroles', 'ClusterRole', 'rbac.authorization.k8s.io', 'v1', false),
  r('clusterrolebindings', 'ClusterRoleBinding', 'rbac.authorization.k8s.io', 'v1', false),
  r('selfsubjectaccessreviews', 'SelfSubjectAccessReview', 'authorization.k8s.io', 'v1', false, { virtual: true }),
  r('selfsubjectrulesreviews', 'SelfSubjectRulesReview', 'authorization.k8s.io', 'v1', false, { virtual: true }),
  r('selfsubjectreviews', 'SelfSubjectReview', 'authentication.k8s.io', 'v1', false, { virtual: true }),
  r('subjectaccessreviews', 'SubjectAccessReview', 'authorization.k8s.io', 'v1', false, { virtual: true }),
  r('localsubjectaccessreviews', 'LocalSubjectAccessReview', 'authorization.k8s.io', 'v1', true, { virtual: true }),
  r('tokenreviews', 'TokenReview', 'authentication.k8s.io', 'v1', false, { virtual: true }),
];

const byResource = new Map(RESOURCES.map((info) => [info.resource, info]));

/** apiVersion string as it appears in objects: `v1` or `apps/v1`. */
export function apiVersionOf(info: ResourceInfo): string {
  return info.group ? `${info.group}/${info.version}` : info.version;
}

/** Exact lookup by plural resource name; undefined when not served. */
export function resourceInfo(resource: string): ResourceInfo | undefined {
  return byResource.get(resource);
}

/** Lookup by plural, singular, short name or kind (case-insensitive), as kubectl resolves `kubectl get X`. */
export function findResource(name: string): ResourceInfo | undefined {
  const n = name.toLowerCase();
  const [base, group] = n.includes('.') ? [n.slice(0, n.indexOf('.')), n.slice(n.indexOf('.') + 1)] : [n, undefined];
  return RESOURCES.find(
    (i) =>
      (i.resource === base || i.singular === base || i.kind.toLowerCase() === base || i.shortNames.includes(base)) &&
      (group === undefined || i.group === group || `${i.version}.${i.group}` === group),
  );
}

/** The resource served for an object's apiVersion and kind. */
export function resourceForKind(apiVersion: string, kind: string): ResourceInfo | undefined {
  return RESOURCES.find((i) => i.kind === kind && apiVersionOf(i) === apiVersion);
}
