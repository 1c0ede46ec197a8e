/**
 * Kubernetes' bootstrap RBAC policy (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go), as data:
 * the default ClusterRoles and ClusterRoleBindings kube-apiserver reconciles at start, labelled
 * `kubernetes.io/bootstrapping: rbac-defaults` and annotated `rbac.authorization.kubernetes.io/autoupdate: "true"`.
 * The lab's controller-manager runs every controller under its own identity (kube-controller-manager
 * with --use-service-account-credentials=false), so `system:kube-controller-manager` is also bound to
 * `system:kubelab:controllers`, the union of the per-controller roles the lab's controllers need.
 */
import type { PolicyRule } from './rbac.js';

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'update', 'patch', 'delete', 'deletecollection'];
const READ_WRITE = [...READ, ...WRITE];

const rule = (verbs: string[], groups: string[], resources: string[], names?: string[]): PolicyRule => ({
  verbs,
  apiGroups: groups,
  resources,
  ...(names ? { resourceNames: names } : {}),
});
const urls = (verbs: string[], ...u: string[]): PolicyRule => ({ verbs, nonResourceURLs: u });

const CORE = '';
const APPS = 'apps';
const BATCH = 'batch';
const AUTOSCALING = 'autoscaling';
const POLICY = 'policy';
const RBAC = 'rbac.authorization.k8s.io';
const AUTHN = 'authentication.k8s.io';
const AUTHZ = 'authorization.k8s.io';
const COORD = 'coordination.k8s.io';
const DISCOVERY = 'discovery.k8s.io';
const NETWORKING = 'networking.k8s.io';
const STORAGE = 'storage.k8s.io';
const EVENTS = 'events.k8s.io';
const CERTS = 'certificates.k8s.io';
const SCHEDULING = 'scheduling.k8s.io';

const eventsRule = rule(['create', 'update', 'patch'], [CORE, EVENTS], ['events']);

/** The client-certificate users of kubelab's own components (client/pki/pki.ts labPkiPlan issues them). */
export const INGRESS_USER = 'system:kubelab-ingress';
export const DASHBOARD_USER = 'system:kubelab-dashboard';

export const AGGREGATE_TO = (role: 'admin' | 'edit' | 'view'): string => `rbac.authorization.k8s.io/aggregate-to-${role}`;

export interface BootstrapClusterRole {
  name: string;
  labels?: Record<string, string>;
  rules: PolicyRule[];
  aggregateFrom?: string;
}

/** The rules a node gets (NodeRules): the Node authorizer evaluates these for system:nodes users. */
export const NODE_RULES: PolicyRule[] = [
  rule(['create'], [AUTHN], ['tokenreviews']),
  rule(['create'], [AUTHZ], ['subjectaccessreviews', 'localsubjectaccessreviews']),
  rule(READ, [CORE], ['services']),
  rule(['create', 'get', 'list', 'watch'], [CORE], ['nodes']),
  rule(['update', 'patch'], [CORE], ['nodes/status']),
  rule(['update', 'patch', 'delete'], [CORE], ['nodes']),
  rule(['create', 'update', 'patch'], [CORE], ['events']),
  rule(READ, [CORE], ['pods']),
  rule(['create', 'delete'], [CORE], ['pods']),
  rule(['update', 'patch'], [CORE], ['pods/status']),
  rule(['create'], [CORE], ['pods/eviction']),
  rule(READ, [CORE], ['secrets', 'configmaps']),
  rule(['get'], [CORE], ['persistentvolumeclaims', 'persistentvolumes']),
  rule(['get'], [CORE], ['endpoints']),
  rule(['create', 'get', 'list', 'watch'], [CERTS], ['certificatesigningrequests']),
  rule(['get', 'create', 'update', 'patch', 'delete'], [COORD], ['leases']),
  rule(['create'], [CORE], ['serviceaccounts/token']),
  rule(['update', 'patch'], [CORE], ['persistentvolumeclaims/status']),
  rule(['get'], [STORAGE], ['csidrivers', 'volumeattachments']),
  // kubelab: the kubelet reads its pods' namespace labels to refuse what Pod Security forbids (defence in depth).
  rule(['get'], [CORE], ['namespaces']),
];

export const BOOTSTRAP_CLUSTER_ROLES: BootstrapClusterRole[] = [
  { name: 'cluster-admin', rules: [rule(['*'], ['*'], ['*']), urls(['*'], '*')] },
  {
    name: 'system:discovery',
    rules: [urls(['get'], '/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/')],
  },
  { name: 'system:monitoring', rules: [urls(['get'], '/metrics', '/metrics/slis', '/livez', '/readyz', '/healthz', '/livez/*', '/readyz/*', '/healthz/*')] },
  {
    name: 'system:basic-user',
    rules: [rule(['create'], [AUTHZ], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']), rule(['create'], [AUTHN], ['selfsubjectreviews'])],
  },
  { name: 'system:public-info-viewer', rules: [urls(['get'], '/healthz', '/livez', '/readyz', '/version', '/version/')] },
  { name: 'admin', aggregateFrom: AGGREGATE_TO('admin'), rules: [] },
  { name: 'edit', labels: { [AGGREGATE_TO('admin')]: 'true' }, aggregateFrom: AGGREGATE_TO('edit'), rules: [] },
  { name: 'view', labels: { [AGGREGATE_TO('edit')]: 'true' }, aggregateFrom: AGGREGATE_TO('view'), rules: [] },
  {
    name: 'system:aggregate-to-admin',
    labels: { [AGGREGATE_TO('admin')]: 'true' },
    rules: [rule(['create'], [AUTHZ], ['localsubjectaccessreviews']), rule(READ_WRITE, [RBAC], ['roles', 'rolebindings'])],
  },
  {
    name: 'system:aggregate-to-edit',
    labels: { [AGGREGATE_TO('edit')]: 'true' },
    rules: [
      rule(['impersonate'], [CORE], ['serviceaccounts']),
      rule(WRITE, [CORE], ['pods', 'pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward']),
      rule(['create'], [CORE], ['pods/eviction']),
      rule(WRITE, [CORE], ['replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/proxy', 'persistentvolumeclaims', 'configmaps', 'secrets', 'events']),
      rule(['create'], [CORE], ['serviceaccounts/token']),
      rule(WRITE, [APPS], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale']),
      rule(WRITE, [AUTOSCALING], ['horizontalpodautoscalers']),
      rule(WRITE, [BATCH], ['cronjobs', 'jobs']),
      rule(WRITE, [POLICY], ['poddisruptionbudgets']),
      rule(WRITE, [NETWORKING], ['networkpolicies', 'ingresses']),
      rule(READ_WRITE, [COORD], ['leases']),
      rule(READ, [CORE], ['pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward', 'secrets', 'services/proxy']),
    ],
  },
  {
    name: 'system:aggregate-to-view',
    labels: { [AGGREGATE_TO('view')]: 'true' },
    rules: [
      rule(READ, [CORE], ['pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'configmaps']),
      rule(READ, [CORE], ['limitranges', 'resourcequotas', 'bindings', 'events', 'pods/status', 'resourcequotas/status', 'namespaces/status', 'replicationcontrollers/status', 'pods/log']),
      rule(READ, [CORE], ['namespaces']),
      rule(READ, [DISCOVERY], ['endpointslices']),
      rule(READ, [APPS], ['controllerrevisions', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status', 'statefulsets', 'statefulsets/scale', 'statefulsets/status']),
      rule(READ, [AUTOSCALING], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
      rule(READ, [BATCH], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status']),
      rule(READ, [POLICY], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
      rule(READ, [NETWORKING], ['ingresses', 'ingresses/status', 'networkpolicies']),
    ],
  },
  { name: 'system:node', rules: NODE_RULES },
  {
    name: 'system:node-proxier',
    rules: [rule(['list', 'watch'], [CORE], ['services', 'endpoints']), rule(READ, [CORE], ['nodes']), eventsRule, rule(['list', 'watch'], [DISCOVERY], ['endpointslices'])],
  },
  { name: 'system:auth-delegator', rules: [rule(['create'], [AUTHN], ['tokenreviews']), rule(['create'], [AUTHZ], ['subjectaccessreviews'])] },
  { name: 'system:kube-aggregator', rules: [rule(READ, [CORE], ['services', 'endpoints'])] },
  {
    name: 'system:kube-controller-manager',
    rules: [
      eventsRule,
      rule(['create'], [COORD], ['leases']),
      rule(['get', 'update'], [COORD], ['leases'], ['kube-controller-manager']),
      rule(['create'], [CORE], ['secrets', 'serviceaccounts']),
      rule(['delete'], [CORE], ['secrets']),
      rule(['get'], [CORE], ['configmaps', 'namespaces', 'secrets', 'serviceaccounts']),
      rule(['update'], [CORE], ['secrets', 'serviceaccounts']),
      rule(['create'], [AUTHN], ['tokenreviews']),
      rule(['create'], [AUTHZ], ['subjectaccessreviews']),
      rule(['list', 'watch'], ['*'], ['*']),
      rule(['create'], [CORE], ['serviceaccounts/token']),
    ],
  },
  {
    name: 'system:kube-scheduler',
    rules: [
      eventsRule,
      rule(['create'], [COORD], ['leases']),
      rule(['get', 'update'], [COORD], ['leases'], ['kube-scheduler']),
      rule(READ, [CORE], ['nodes']),
      rule(['get', 'list', 'watch', 'delete'], [CORE], ['pods']),
      rule(['create'], [CORE], ['pods/binding', 'bindings']),
      rule(['patch', 'update'], [CORE], ['pods/status']),
      rule(READ, [CORE], ['services', 'replicationcontrollers']),
      rule(READ, [APPS, 'extensions'], ['replicasets']),
      rule(READ, [APPS], ['statefulsets']),
      rule(READ, [POLICY], ['poddisruptionbudgets']),
      rule(READ, [CORE], ['persistentvolumeclaims', 'persistentvolumes']),
      rule(['create'], [AUTHN], ['tokenreviews']),
      rule(['create'], [AUTHZ], ['subjectaccessreviews']),
      rule(READ, [STORAGE], ['csinodes', 'csidrivers', 'csistoragecapacities', 'storageclasses']),
      rule(READ, [CORE], ['namespaces']),
      // kubelab's scheduler orders its queue by PriorityClass (kube-scheduler reads pod.spec.priority only).
      rule(READ, [SCHEDULING], ['priorityclasses']),
    ],
  },
  { name: 'system:kube-dns', rules: [rule(['list', 'watch'], [CORE], ['endpoints', 'services']), rule(['list', 'watch'], [DISCOVERY], ['endpointslices'])] },
  { name: 'system:service-account-issuer-discovery', rules: [urls(['get'], '/.well-known/openid-configuration', '/.well-known/openid-configuration/', '/openid/v1/jwks', '/openid/v1/jwks/')] },
  {
    // The per-controller roles (system:controller:*) the lab's controllers need, in one role: kubelab's
    // controller-manager runs every controller under its own client certificate.
    name: 'system:kubelab:controllers',
    rules: [
      rule(READ_WRITE, [CORE], ['pods', 'pods/status', 'pods/eviction', 'pods/binding', 'services', 'services/status', 'endpoints', 'events', 'nodes', 'nodes/status', 'namespaces', 'namespaces/status', 'namespaces/finalize', 'persistentvolumes', 'persistentvolumes/status', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'serviceaccounts', 'configmaps']),
      rule(READ_WRITE, [APPS], ['*']),
      rule(READ_WRITE, [BATCH], ['*']),
      rule(READ_WRITE, [AUTOSCALING], ['*']),
      rule(READ_WRITE, [POLICY], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
      rule(READ_WRITE, [DISCOVERY], ['endpointslices']),
      rule(READ_WRITE, [COORD], ['leases']),
      rule(READ_WRITE, [EVENTS], ['events']),
      rule(READ, [STORAGE, SCHEDULING, NETWORKING], ['*']),
      // The volume controller makes the lab's default StorageClass.
      rule(['create'], [STORAGE], ['storageclasses']),
      // system:controller:generic-garbage-collector and namespace-controller: the garbage collector reads,
      // patches (ownerReferences, finalizers) and deletes dependents of every kind; the namespace
      // controller empties a terminating namespace of every kind.
      rule(['get', 'list', 'watch', 'patch', 'update', 'delete', 'deletecollection'], ['*'], ['*']),
      urls(['get'], '/metrics'),
    ],
  },
  {
    // kubelab's dns component beyond system:kube-dns: it keeps kube-system/kube-dns (Service + Endpoints)
    // pointing at itself and hands out LoadBalancer ingress IPs (Service status).
    name: 'system:kubelab:dns',
    rules: [
      rule(['create'], [CORE], ['services', 'endpoints']),
      rule(['get', 'update'], [CORE], ['services', 'endpoints'], ['kube-dns']),
      rule(['update', 'patch'], [CORE], ['services/status']),
      eventsRule,
    ],
  },
  {
    // The ingress controller (ingress-nginx's ClusterRole, trimmed to what kubelab's controller calls).
    name: 'system:kubelab:ingress',
    rules: [
      rule(['list', 'watch'], [CORE], ['services', 'secrets']),
      rule(['list', 'watch'], [DISCOVERY], ['endpointslices']),
      rule(READ, [NETWORKING], ['ingresses', 'ingressclasses']),
      rule(['update'], [NETWORKING], ['ingresses/status']),
      // Its IngressClass `nginx`, created when missing.
      rule(['create'], [NETWORKING], ['ingressclasses']),
      eventsRule,
    ],
  },
  {
    // The dashboard: read-only, but for the Events recording its own actions. It serves 127.0.0.1:8080
    // without authentication, so what it may do, anyone who reaches that port may do: it sees what it shows
    // (no Secrets), and its API buttons (scale, cordon, drain, delete pod) answer with the apiserver's
    // Forbidden unless someone binds it more.
    name: 'system:kubelab:dashboard',
    rules: [
      rule(READ, [CORE], ['nodes', 'pods', 'events']),
      rule(READ, [COORD], ['leases']),
      rule(READ, [APPS], ['deployments', 'replicasets', 'statefulsets', 'daemonsets']),
      rule(READ, [BATCH], ['jobs']),
      // Disruption budgets: the pod panel tells whether an eviction (drain) would be refused now.
      rule(READ, [POLICY], ['poddisruptionbudgets']),
      rule(READ, [CORE], ['configmaps'], ['kubelab-controller-manager-timing']),
      // The Events of its own actions (node faults act on Docker and are recorded as DashboardAction).
      eventsRule,
    ],
  },
  {
    // metrics-server's system:aggregated-metrics-reader: `kubectl top` for whoever holds view, edit or admin.
    name: 'system:aggregated-metrics-reader',
    labels: { [AGGREGATE_TO('view')]: 'true', [AGGREGATE_TO('edit')]: 'true', [AGGREGATE_TO('admin')]: 'true' },
    rules: [rule(READ, ['metrics.k8s.io'], ['pods', 'nodes'])],
  },
];

export interface BootstrapBinding {
  name: string;
  role: string;
  subjects: { kind: 'User' | 'Group' | 'ServiceAccount'; name: string; namespace?: string }[];
}

const group = (name: string): BootstrapBinding['subjects'][number] => ({ kind: 'Group', name });
const user = (name: string): BootstrapBinding['subjects'][number] => ({ kind: 'User', name });

export const BOOTSTRAP_CLUSTER_ROLE_BINDINGS: BootstrapBinding[] = [
  { name: 'cluster-admin', role: 'cluster-admin', subjects: [group('system:masters')] },
  { name: 'kubeadm:cluster-admins', role: 'cluster-admin', subjects: [group('kubeadm:cluster-admins')] },
  { name: 'system:monitoring', role: 'system:monitoring', subjects: [group('system:monitoring')] },
  { name: 'system:discovery', role: 'system:discovery', subjects: [group('system:authenticated')] },
  { name: 'system:basic-user', role: 'system:basic-user', subjects: [group('system:authenticated')] },
  { name: 'system:public-info-viewer', role: 'system:public-info-viewer', subjects: [group('system:authenticated'), group('system:unauthenticated')] },
  // No subjects: nodes are authorized by the Node authorizer (kept for compatibility, as Kubernetes does).
  { name: 'system:node', role: 'system:node', subjects: [] },
  { name: 'system:node-proxier', role: 'system:node-proxier', subjects: [user('system:kube-proxy')] },
  { name: 'system:kube-controller-manager', role: 'system:kube-controller-manager', subjects: [user('system:kube-controller-manager')] },
  { name: 'system:kubelab:controllers', role: 'system:kubelab:controllers', subjects: [user('system:kube-controller-manager')] },
  { name: 'system:kube-scheduler', role: 'system:kube-scheduler', subjects: [user('system:kube-scheduler')] },
  { name: 'system:kube-dns', role: 'system:kube-dns', subjects: [{ kind: 'ServiceAccount', name: 'kube-dns', namespace: 'kube-system' }, user('system:kube-dns')] },
  { name: 'system:kubelab:dns', role: 'system:kubelab:dns', subjects: [user('system:kube-dns')] },
  { name: 'system:kubelab:ingress', role: 'system:kubelab:ingress', subjects: [user(INGRESS_USER)] },
  { name: 'system:kubelab:dashboard', role: 'system:kubelab:dashboard', subjects: [user(DASHBOARD_USER)] },
  { name: 'system:service-account-issuer-discovery', role: 'system:service-account-issuer-discovery', subjects: [group('system:serviceaccounts')] },
];

/** The ClusterRole objects to reconcile. */
export function bootstrapClusterRoleObjects(): Record<string, unknown>[] {
  return BOOTSTRAP_CLUSTER_ROLES.map((r) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: {
      name: r.name,
      labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults', ...(r.labels ?? {}) },
      annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
    },
    ...(r.aggregateFrom ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [r.aggregateFrom]: 'true' } }] } } : {}),
    rules: r.rules,
  }));
}

export function bootstrapClusterRoleBindingObjects(): Record<string, unknown>[] {
  return BOOTSTRAP_CLUSTER_ROLE_BINDINGS.map((b) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: {
      name: b.name,
      labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
      annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
    },
    roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: b.role },
    subjects: b.subjects.map((s) => (s.kind === 'ServiceAccount' ? s : { apiGroup: RBAC, ...s })),
  }));
}
