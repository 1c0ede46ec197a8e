/**
 * RBAC evaluation tables, after Kubernetes' plugin/pkg/auth/authorizer/rbac/rbac_test.go (TestAuthorizer,
 * TestRuleMatches) and pkg/registry/rbac/validation/policy_compact tests (Covers).
 */
import { describe, expect, it } from 'vitest';
import type { Attributes } from './attributes.js';
import { forbidden, requestAttributes } from './attributes.js';
import { rbacAuthorize, ruleAllows, uncoveredRules, type Binding, type PolicyRule, type RbacSource, type Role } from './rbac.js';
import type { UserInfo } from './user.js';

const user = (name: string, ...groups: string[]): UserInfo => ({ name, groups });
const res = (u: UserInfo, verb: string, resource: string, o: Partial<Attributes> = {}): Attributes => ({
  user: u,
  verb,
  resourceRequest: true,
  namespace: '',
  apiGroup: '',
  apiVersion: 'v1',
  resource,
  subresource: '',
  name: '',
  path: '',
  ...o,
});
const nonres = (u: UserInfo, verb: string, path: string): Attributes => ({ user: u, verb, resourceRequest: false, namespace: '', apiGroup: '', apiVersion: '', resource: '', subresource: '', name: '', path });

function source(o: { clusterRoles?: Record<string, PolicyRule[]>; roles?: Record<string, PolicyRule[]>; crbs?: Binding[]; rbs?: Binding[] }): RbacSource {
  return {
    clusterRoleBindings: () => o.crbs ?? [],
    roleBindings: (ns) => (o.rbs ?? []).filter((b) => b.metadata?.namespace === ns),
    clusterRole: (n): Role | undefined => (o.clusterRoles?.[n] ? { rules: o.clusterRoles[n] } : undefined),
    role: (ns, n): Role | undefined => (o.roles?.[`${ns}/${n}`] ? { rules: o.roles[`${ns}/${n}`] } : undefined),
  };
}

describe('ruleAllows (TestRuleMatches)', () => {
  const u = user('u');
  const cases: [string, PolicyRule, Attributes, boolean][] = [
    ['star verb, exact match other', { verbs: ['*'], apiGroups: ['group1'], resources: ['resource1'] }, res(u, 'get', 'resource1', { apiGroup: 'group1' }), true],
    ['star group', { verbs: ['get'], apiGroups: ['*'], resources: ['resource1'] }, res(u, 'get', 'resource1', { apiGroup: 'group2' }), true],
    ['star resource', { verbs: ['get'], apiGroups: ['group1'], resources: ['*'] }, res(u, 'get', 'resource1', { apiGroup: 'group1' }), true],
    ['tuple mismatch verb', { verbs: ['get'], apiGroups: ['group1'], resources: ['resource1'] }, res(u, 'list', 'resource1', { apiGroup: 'group1' }), false],
    ['tuple mismatch group', { verbs: ['get'], apiGroups: ['group1'], resources: ['resource1'] }, res(u, 'get', 'resource1', { apiGroup: 'group2' }), false],
    ['resourceNames match', { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }, res(u, 'get', 'configmaps', { name: 'a' }), true],
    ['resourceNames mismatch', { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }, res(u, 'get', 'configmaps', { name: 'b' }), false],
    ['resourceNames and list (no name)', { verbs: ['list'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }, res(u, 'list', 'configmaps'), false],
    ['subresource exact', { verbs: ['get'], apiGroups: [''], resources: ['pods/log'] }, res(u, 'get', 'pods', { subresource: 'log' }), true],
    ['resource does not grant its subresource', { verbs: ['get'], apiGroups: [''], resources: ['pods'] }, res(u, 'get', 'pods', { subresource: 'log' }), false],
    ['subresource does not grant the resource', { verbs: ['get'], apiGroups: [''], resources: ['pods/log'] }, res(u, 'get', 'pods'), false],
    ['*/scale matches any scale', { verbs: ['update'], apiGroups: ['apps'], resources: ['*/scale'] }, res(u, 'update', 'deployments', { apiGroup: 'apps', subresource: 'scale' }), true],
    ['*/scale is not */status', { verbs: ['update'], apiGroups: ['apps'], resources: ['*/scale'] }, res(u, 'update', 'deployments', { apiGroup: 'apps', subresource: 'status' }), false],
    ['* covers subresources', { verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, res(u, 'create', 'pods', { subresource: 'exec' }), true],
    ['non-resource exact', { verbs: ['get'], nonResourceURLs: ['/healthz'] }, nonres(u, 'get', '/healthz'), true],
    ['non-resource prefix', { verbs: ['get'], nonResourceURLs: ['/api/*'] }, nonres(u, 'get', '/api/v1'), true],
    ['non-resource prefix is not the parent', { verbs: ['get'], nonResourceURLs: ['/api/*'] }, nonres(u, 'get', '/api'), false],
    ['non-resource star', { verbs: ['*'], nonResourceURLs: ['*'] }, nonres(u, 'post', '/anything'), true],
    ['resource rule does not allow a URL', { verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, nonres(u, 'get', '/healthz'), false],
    ['URL rule does not allow a resource', { verbs: ['*'], nonResourceURLs: ['*'] }, res(u, 'get', 'pods'), false],
  ];
  it.each(cases)('%s', (_name, rule, attrs, want) => expect(ruleAllows(attrs, rule)).toBe(want));
});

describe('rbacAuthorize (TestAuthorizer)', () => {
  const src = source({
    clusterRoles: { admin: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], reader: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }] },
    roles: { 'ns1/secrets': [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }] },
    crbs: [{ metadata: { name: 'a' }, roleRef: { kind: 'ClusterRole', name: 'admin' }, subjects: [{ kind: 'Group', name: 'admins' }] }],
    rbs: [
      { metadata: { name: 'b', namespace: 'ns1' }, roleRef: { kind: 'ClusterRole', name: 'reader' }, subjects: [{ kind: 'User', name: 'alice' }, { kind: 'ServiceAccount', name: 'sa' }] },
      { metadata: { name: 'c', namespace: 'ns1' }, roleRef: { kind: 'Role', name: 'secrets' }, subjects: [{ kind: 'ServiceAccount', name: 'other', namespace: 'ns2' }] },
      { metadata: { name: 'd', namespace: 'ns1' }, roleRef: { kind: 'Role', name: 'missing' }, subjects: [{ kind: 'User', name: 'carol' }] },
    ],
  });
  const cases: [string, Attributes, string][] = [
    ['group bound cluster-wide', res(user('bob', 'admins'), 'delete', 'nodes'), 'Allow'],
    ['rolebinding to clusterrole in its namespace', res(user('alice'), 'list', 'pods', { namespace: 'ns1' }), 'Allow'],
    ['not outside it', res(user('alice'), 'list', 'pods', { namespace: 'ns2' }), 'NoOpinion'],
    ['not cluster-wide', res(user('alice'), 'list', 'pods'), 'NoOpinion'],
    ['verb not granted', res(user('alice'), 'delete', 'pods', { namespace: 'ns1', name: 'x' }), 'NoOpinion'],
    ['service account subject defaults to the binding namespace', res(user('system:serviceaccount:ns1:sa'), 'get', 'pods', { namespace: 'ns1', name: 'x' }), 'Allow'],
    ['same SA name in another namespace is someone else', res(user('system:serviceaccount:ns2:sa'), 'get', 'pods', { namespace: 'ns1', name: 'x' }), 'NoOpinion'],
    ['service account subject with its own namespace', res(user('system:serviceaccount:ns2:other'), 'get', 'secrets', { namespace: 'ns1', name: 's' }), 'Allow'],
  ];
  it.each(cases)('%s', (_n, attrs, want) => expect(rbacAuthorize(src, attrs).decision).toBe(want));

  it('names a binding to a missing role in the reason, and still answers', () => {
    const r = rbacAuthorize(src, res(user('carol'), 'get', 'pods', { namespace: 'ns1', name: 'x' }));
    expect(r).toEqual({ decision: 'NoOpinion', reason: 'RBAC: role.rbac.authorization.k8s.io "missing" not found' });
  });
});

describe('uncoveredRules (escalation check)', () => {
  const owner: PolicyRule[] = [
    { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'configmaps'] },
    { verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['one'] },
    { verbs: ['*'], apiGroups: ['apps'], resources: ['*/scale'] },
    { verbs: ['get'], nonResourceURLs: ['/logs/*'] },
  ];
  const cases: [string, PolicyRule, boolean][] = [
    ['subset', { verbs: ['get'], apiGroups: [''], resources: ['pods'] }, true],
    ['more verbs', { verbs: ['get', 'delete'], apiGroups: [''], resources: ['pods'] }, false],
    ['named secret', { verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['one'] }, true],
    ['all secrets from one name', { verbs: ['get'], apiGroups: [''], resources: ['secrets'] }, false],
    ['*/scale covers deployments/scale', { verbs: ['update'], apiGroups: ['apps'], resources: ['deployments/scale'] }, true],
    ['*/scale does not cover deployments', { verbs: ['update'], apiGroups: ['apps'], resources: ['deployments'] }, false],
    ['URL under prefix', { verbs: ['get'], nonResourceURLs: ['/logs/a'] }, true],
    ['URL outside prefix', { verbs: ['get'], nonResourceURLs: ['/metrics'] }, false],
    ['star is not covered by a list', { verbs: ['*'], apiGroups: [''], resources: ['pods'] }, false],
  ];
  it.each(cases)('%s', (_n, servant, covered) => expect(uncoveredRules(owner, [servant]).length === 0).toBe(covered));
});

describe('requestAttributes (RequestInfoFactory)', () => {
  const u = user('u');
  const q = (s = ''): URLSearchParams => new URLSearchParams(s);
  const cases: [string, string, string, Partial<Attributes>][] = [
    ['GET', '/api/v1/namespaces/ns/pods', '', { verb: 'list', resource: 'pods', namespace: 'ns', name: '' }],
    ['GET', '/api/v1/namespaces/ns/pods', 'watch=true', { verb: 'watch', resource: 'pods' }],
    ['GET', '/api/v1/namespaces/ns/pods', 'fieldSelector=metadata.name%3Dp1', { verb: 'list', name: 'p1' }],
    ['GET', '/api/v1/namespaces/ns/pods/p1/log', '', { verb: 'get', resource: 'pods', subresource: 'log', name: 'p1' }],
    ['POST', '/api/v1/namespaces/ns/pods/p1/exec', '', { verb: 'create', subresource: 'exec' }],
    ['DELETE', '/api/v1/namespaces/ns/pods', '', { verb: 'deletecollection' }],
    ['GET', '/api/v1/namespaces/ns', '', { verb: 'get', resource: 'namespaces', name: 'ns', namespace: 'ns' }],
    ['PUT', '/api/v1/namespaces/ns/finalize', '', { verb: 'update', resource: 'namespaces', name: 'ns', subresource: 'finalize' }],
    ['GET', '/apis/apps/v1/namespaces/ns/deployments/d/scale', '', { apiGroup: 'apps', resource: 'deployments', subresource: 'scale', verb: 'get' }],
    ['GET', '/api/v1/watch/namespaces/ns/pods', '', { verb: 'watch', resource: 'pods', namespace: 'ns' }],
    ['GET', '/api/v1/nodes', '', { verb: 'list', resource: 'nodes', namespace: '' }],
    ['GET', '/apis/apps/v1', '', { resourceRequest: false, verb: 'get', path: '/apis/apps/v1' }],
    ['GET', '/healthz', '', { resourceRequest: false, verb: 'get', path: '/healthz' }],
    ['POST', '/api', '', { resourceRequest: false, verb: 'post' }],
  ];
  it.each(cases)('%s %s?%s', (method, path, query, want) => expect(requestAttributes(u, method, path, q(query))).toMatchObject(want));
});

describe('forbidden', () => {
  it('words a refusal as kube-apiserver does', () => {
    const u = user('x');
    expect(forbidden(res(u, 'list', 'secrets', { namespace: 'y' }), '').message).toBe('secrets is forbidden: User "x" cannot list resource "secrets" in API group "" in the namespace "y"');
    expect(forbidden(res(u, 'get', 'deployments', { apiGroup: 'apps', subresource: 'scale', name: 'd', namespace: 'y' }), '').message).toBe(
      'deployments.apps "d" is forbidden: User "x" cannot get resource "deployments/scale" in API group "apps" in the namespace "y"',
    );
    expect(forbidden(res(u, 'list', 'nodes'), '').message).toBe('nodes is forbidden: User "x" cannot list resource "nodes" in API group "" at the cluster scope');
    expect(forbidden(nonres(u, 'get', '/metrics'), '').message).toBe('forbidden: User "x" cannot get path "/metrics"');
    expect(forbidden(res(u, 'get', 'secrets', { namespace: 'y', name: 's' }), 'no relationship').message).toBe(
      'secrets "s" is forbidden: User "x" cannot get resource "secrets" in API group "" in the namespace "y": no relationship',
    );
  });
});
