/**
 * The bootstrap policy against the calls each component makes (grep of list/watch/get/create/update/
 * patch/delete in scheduler/, controller-manager/, kubelet/, kube-proxy/, ingress/, dashboard/): every
 * call its identity makes is allowed under Node,RBAC, and what it has no business doing is not.
 */
import { describe, expect, it } from 'vitest';
import type { KObject } from '../../api/types.js';
import type { Attributes } from './attributes.js';
import { Authorizer } from './authorizer.js';
import { DASHBOARD_USER, INGRESS_USER, bootstrapClusterRoleBindingObjects, bootstrapClusterRoleObjects } from './bootstrap.js';
import type { UserInfo } from './user.js';

const AUTHENTICATED = 'system:authenticated';
const u = (name: string, ...groups: string[]): UserInfo => ({ name, groups: [...groups, AUTHENTICATED] });
const SCHEDULER = u('system:kube-scheduler');
const CONTROLLER_MANAGER = u('system:kube-controller-manager');
const KUBE_PROXY = u('system:kube-proxy');
const DNS = u('system:kube-dns');
const INGRESS = u(INGRESS_USER);
const DASHBOARD = u(DASHBOARD_USER);
const NODE_A = u('system:node:node-a', 'system:nodes');

const GROUPS: Record<string, string> = {
  deployments: 'apps',
  replicasets: 'apps',
  statefulsets: 'apps',
  daemonsets: 'apps',
  controllerrevisions: 'apps',
  jobs: 'batch',
  cronjobs: 'batch',
  horizontalpodautoscalers: 'autoscaling',
  poddisruptionbudgets: 'policy',
  leases: 'coordination.k8s.io',
  endpointslices: 'discovery.k8s.io',
  ingresses: 'networking.k8s.io',
  ingressclasses: 'networking.k8s.io',
  storageclasses: 'storage.k8s.io',
  priorityclasses: 'scheduling.k8s.io',
  clusterrolebindings: 'rbac.authorization.k8s.io',
  clusterroles: 'rbac.authorization.k8s.io',
  roles: 'rbac.authorization.k8s.io',
};

/** `verb resource[/sub] [ns/]name`: one call as the authorizer sees it. */
function call(user: UserInfo, spec: string): Attributes {
  const [verb, res, target = ''] = spec.split(' ');
  const [resource, subresource = ''] = res.split('/');
  const [namespace, name] = target.includes('/') ? target.split('/') : ['', target];
  return { user, verb, resourceRequest: true, namespace, apiGroup: GROUPS[resource] ?? '', apiVersion: 'v1', resource, subresource, name, path: '' };
}

function authorizer(pods: KObject[] = []): Authorizer {
  const byName = (objs: Record<string, unknown>[]): Map<string, KObject> => new Map(objs.map((o) => [(o as KObject).metadata?.name ?? '', o as KObject]));
  const items: Record<string, Map<string, KObject>> = {
    clusterroles: byName(bootstrapClusterRoleObjects()),
    clusterrolebindings: byName(bootstrapClusterRoleBindingObjects()),
    pods: new Map(pods.map((p) => [`${p.metadata?.namespace}/${p.metadata?.name}`, p])),
  };
  return new Authorizer(['Node', 'RBAC'], { items: (r) => items[r] ?? new Map(), revision: () => 1 });
}

const allowed = (a: Authorizer, user: UserInfo, spec: string): boolean => a.authorize(call(user, spec)).decision === 'Allow';

/** The calls each component makes; every one must be allowed. */
const NEEDS: [UserInfo, string[]][] = [
  [
    SCHEDULER,
    [
      'list pods', 'watch pods', 'list nodes', 'watch nodes', 'list namespaces', 'watch namespaces', 'list services', 'watch services',
      'list poddisruptionbudgets', 'watch poddisruptionbudgets', 'list priorityclasses',
      'create pods/binding ns/p', 'patch pods/status ns/p', 'delete pods ns/p',
      'create events ns/', 'patch events ns/e',
      'create leases kube-system/', 'get leases kube-system/kube-scheduler', 'update leases kube-system/kube-scheduler',
    ],
  ],
  [
    CONTROLLER_MANAGER,
    [
      'create leases kube-system/', 'get leases kube-system/kube-controller-manager', 'update leases kube-system/kube-controller-manager',
      'create pods ns/', 'delete pods ns/p', 'update pods/status ns/p', 'create replicasets ns/', 'update replicasets ns/r', 'delete replicasets ns/r',
      'update deployments/status ns/d', 'patch deployments ns/d', 'get deployments/scale ns/d', 'update deployments/scale ns/d',
      'create controllerrevisions ns/', 'create jobs ns/', 'delete jobs ns/j', 'update jobs/status ns/j',
      'create endpoints ns/', 'update endpoints ns/e', 'delete endpoints ns/e', 'create endpointslices ns/', 'update endpointslices ns/e', 'delete endpointslices ns/e',
      'update nodes n', 'update nodes/status n', 'get nodes n', 'update namespaces n',
      'create persistentvolumes', 'update persistentvolumes pv', 'update persistentvolumes/status pv', 'delete persistentvolumes pv',
      'create persistentvolumeclaims ns/', 'update persistentvolumeclaims ns/c', 'update persistentvolumeclaims/status ns/c',
      'create storageclasses', 'update horizontalpodautoscalers/status ns/h', 'update poddisruptionbudgets/status ns/b',
      'create services kube-system/', 'create configmaps kube-system/', 'update configmaps kube-system/kubelab-controller-manager-timing',
      'create events ns/',
      // The garbage collector and the namespace controller act on every kind.
      'list secrets', 'watch clusterroles', 'get ingresses ns/i', 'patch ingresses ns/i', 'delete secrets ns/s', 'deletecollection configmaps ns/',
    ],
  ],
  [KUBE_PROXY, ['list services', 'watch services', 'list endpoints', 'watch endpoints']],
  [
    DNS,
    [
      'list services', 'watch services', 'list endpoints', 'watch endpoints',
      'get services kube-system/kube-dns', 'create services kube-system/', 'get endpoints kube-system/kube-dns', 'create endpoints kube-system/', 'update endpoints kube-system/kube-dns',
      'update services/status ns/lb',
    ],
  ],
  [
    INGRESS,
    [
      'list ingresses', 'watch ingresses', 'list ingressclasses', 'watch ingressclasses', 'create ingressclasses', 'list services', 'watch services',
      'list endpointslices', 'watch endpointslices', 'list secrets', 'watch secrets', 'update ingresses/status ns/i', 'create events ns/',
    ],
  ],
  [
    DASHBOARD,
    [
      'list nodes', 'watch nodes', 'list pods', 'watch pods', 'list leases', 'watch leases', 'list events', 'watch events',
      'list configmaps kube-system/kubelab-controller-manager-timing', 'watch configmaps kube-system/kubelab-controller-manager-timing',
      'list deployments', 'watch deployments', 'list replicasets', 'list statefulsets', 'list daemonsets', 'list jobs', 'watch jobs',
    ],
  ],
  [
    NODE_A,
    [
      'list pods', 'watch pods', 'create pods ns/', 'delete pods ns/p', 'update pods/status ns/p', 'list services', 'watch services',
      'create nodes', 'get nodes node-a', 'update nodes node-a', 'update nodes/status node-a', 'get namespaces ns',
      'get leases kube-node-lease/node-a', 'update leases kube-node-lease/node-a', 'create leases kube-node-lease/', 'create events ns/',
      'get secrets ns/mounted', 'get configmaps ns/kube-root-ca.crt', 'create serviceaccounts/token ns/default',
    ],
  ],
];

/** What each identity must not do. */
const REFUSED: [UserInfo, string[]][] = [
  [SCHEDULER, ['get secrets ns/s', 'list secrets', 'create pods ns/', 'update nodes n', 'update leases kube-system/kube-controller-manager']],
  // Kubernetes' own system:kube-controller-manager role creates secrets and service accounts (token controller).
  [CONTROLLER_MANAGER, ['create clusterrolebindings', 'create clusterroles', 'create pods/exec ns/p', 'create pods/portforward ns/p']],
  [KUBE_PROXY, ['list secrets', 'create services ns/', 'update endpoints ns/e', 'list pods']],
  [DNS, ['list secrets', 'update services ns/web', 'update endpoints ns/web', 'delete services kube-system/kube-dns', 'list pods']],
  [INGRESS, ['create secrets ns/', 'get secrets ns/s', 'update ingresses ns/i', 'create pods ns/', 'list pods']],
  // Read-only: its API buttons are refused (it serves 127.0.0.1:8080 without authentication).
  [DASHBOARD, ['list secrets', 'get secrets ns/s', 'list configmaps', 'delete deployments ns/d', 'create pods ns/', 'create pods/exec ns/p', 'update nodes n', 'patch nodes n', 'create pods/eviction ns/p', 'delete pods ns/p', 'patch deployments/scale ns/d']],
  [NODE_A, ['get secrets ns/other', 'list secrets', 'get configmaps ns/other', 'create serviceaccounts/token ns/builder', 'get leases kube-node-lease/node-b', 'create clusterrolebindings']],
];

describe('bootstrap policy under Node,RBAC', () => {
  // node-a runs one pod, which mounts Secret `mounted` and the account `default`'s token.
  const a = authorizer([
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'ns' },
      spec: {
        nodeName: 'node-a',
        serviceAccountName: 'default',
        containers: [{ name: 'c', image: 'x' }],
        volumes: [
          { name: 's', secret: { secretName: 'mounted' } },
          { name: 'kube-api-access-x', projected: { sources: [{ serviceAccountToken: { path: 'token' } }, { configMap: { name: 'kube-root-ca.crt' } }] } },
        ],
      },
    } as KObject,
  ]);

  for (const [user, calls] of NEEDS)
    it(`allows every call ${user.name} makes`, () => {
      expect(calls.filter((c) => !allowed(a, user, c)), 'refused').toEqual([]);
    });

  for (const [user, calls] of REFUSED)
    it(`refuses ${user.name} what it does not need`, () => {
      expect(calls.filter((c) => allowed(a, user, c)), 'allowed').toEqual([]);
    });

  it('lets anonymous read the public-info paths only', () => {
    const anon: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };
    const path = (p: string): Attributes => ({ user: anon, verb: 'get', resourceRequest: false, namespace: '', apiGroup: '', apiVersion: '', resource: '', subresource: '', name: '', path: p });
    expect(['/healthz', '/livez', '/readyz', '/version'].filter((p) => a.authorize(path(p)).decision !== 'Allow')).toEqual([]);
    expect(['/api', '/apis', '/metrics', '/openapi/v2'].filter((p) => a.authorize(path(p)).decision === 'Allow')).toEqual([]);
  });
});
