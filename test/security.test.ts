/**
 * Authentication, authorization and admission against a real etcd, through the REST facade as kubectl
 * and in-cluster clients meet them: RBAC (resourceNames, subresources, non-resource URLs, aggregation,
 * escalation), ServiceAccount tokens (TokenRequest, bound to a pod, audience, expiry, forgery), the
 * Node authorizer and NodeRestriction, Pod Security admission, and the reviews `kubectl auth can-i` asks.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../client/api.js';
import { ApiError } from '../api/errors.js';
import { startControlPlane, type TestControlPlane } from './support/apiserver.js';
import { waitFor } from './support/wait.js';
import { parseComponentConfig } from '../component-base/process.js';
import { nullLogger } from '../component-base/log.js';
import { schedulerComponent } from '../scheduler/main.js';
import { startScheduler } from '../scheduler/index.js';

let cp: TestControlPlane;
let base: string;
let dir: string;
const ADMIN = 'admin-token-0123456789';
const ALICE = 'alice-token-0123456789';
const NODE_A = 'node-a-token-0123456789';
const NODE_B = 'node-b-token-0123456789';

interface Reply {
  status: number;
  body: Record<string, unknown>;
  warning: string | null;
}

async function call(method: string, path: string, token: string | undefined, body?: unknown, contentType = 'application/json'): Promise<Reply> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': contentType } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { status: res.status, body: parsed, warning: res.headers.get('warning') };
}

const admin = {
  post: (path: string, body: unknown) => call('POST', path, ADMIN, body),
  get: (path: string) => call('GET', path, ADMIN),
};

async function mustCreate(path: string, body: unknown): Promise<Record<string, unknown>> {
  const r = await admin.post(path, body);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

let nsCounter = 0;
async function namespace(labels: Record<string, string> = {}): Promise<string> {
  const name = `sec${++nsCounter}-${Date.now().toString(36)}`;
  await mustCreate('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
  // The ServiceAccount admission refuses pods until the namespace's `default` account exists (as Kubernetes does).
  await waitFor(async () => (await admin.get(`/api/v1/namespaces/${name}/serviceaccounts/default`)).status === 200, { what: `default ServiceAccount in ${name}` });
  return name;
}

const pod = (name: string, extra: Record<string, unknown> = {}, container: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { containers: [{ name: 'c', image: 'busybox', ...container }], ...extra },
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kubelab-security-'));
  const tokens = join(dir, 'tokens.csv');
  writeFileSync(
    tokens,
    [`${ADMIN},kubernetes-admin,admin-uid,"system:masters"`, `${ALICE},alice,alice-uid`, `${NODE_A},system:node:node-a,,"system:nodes"`, `${NODE_B},system:node:node-b,,"system:nodes"`, ''].join('\n'),
  );
  writeFileSync(
    join(dir, 'audit-policy.yaml'),
    [
      'apiVersion: audit.k8s.io/v1',
      'kind: Policy',
      'rules:',
      '  - level: None',
      "    nonResourceURLs: ['/healthz*', '/version']",
      '  - level: RequestResponse',
      "    resources: [{ group: '', resources: ['configmaps'] }]",
      '  - level: Metadata',
      "    resources: [{ group: '', resources: ['secrets'] }]",
      '  - level: Request',
      '',
    ].join('\n'),
  );
  cp = await startControlPlane({
    auditLogPath: join(dir, 'audit.log'),
    auditPolicyFile: join(dir, 'audit-policy.yaml'),
    anonymousUser: 'anonymous',
    tokenAuthFile: tokens,
  });
  base = `http://127.0.0.1:${cp.apiserver.httpPort}`;
});
afterAll(async () => {
  await cp?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('anonymous requests', () => {
  it('may read /healthz and /version; anywhere else a request without credentials is a 401', async () => {
    expect((await call('GET', '/healthz', undefined)).status).toBe(200);
    expect((await call('GET', '/version', undefined)).status).toBe(200);
    const r = await call('GET', '/api/v1/namespaces/default/secrets', undefined);
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401, message: 'Unauthorized' });
    // Discovery needs an identity too (system:discovery is bound to system:authenticated only).
    expect((await call('GET', '/api', undefined)).status).toBe(401);
    expect((await call('GET', '/apis', undefined)).status).toBe(401);
  });
});

describe('RBAC', () => {
  it('grants by resourceNames, subresources and verbs exactly as the rules say', async () => {
    const ns = await namespace();
    await mustCreate(`/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: 'one' }, data: { a: '1' } });
    await mustCreate(`/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: 'two' }, data: { a: '2' } });
    await mustCreate(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`, {
      metadata: { name: 'one-reader' },
      rules: [
        { apiGroups: [''], resources: ['configmaps'], resourceNames: ['one'], verbs: ['get'] },
        { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
      ],
    });
    await mustCreate(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
      metadata: { name: 'alice-one' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'one-reader' },
      subjects: [{ kind: 'User', name: 'alice' }],
    });
    await waitFor(async () => (await call('GET', `/api/v1/namespaces/${ns}/configmaps/one`, ALICE)).status === 200, { what: 'alice reads configmap one' });
    const two = await call('GET', `/api/v1/namespaces/${ns}/configmaps/two`, ALICE);
    expect(two.status).toBe(403);
    expect(two.body.message).toBe(`configmaps "two" is forbidden: User "alice" cannot get resource "configmaps" in API group "" in the namespace "${ns}"`);
    expect(two.body.details).toEqual({ name: 'two', group: '', kind: 'configmaps' });
    expect((await call('GET', `/api/v1/namespaces/${ns}/configmaps`, ALICE)).status).toBe(403);
    expect((await call('DELETE', `/api/v1/namespaces/${ns}/configmaps/one`, ALICE)).status).toBe(403);
    // Another namespace: the RoleBinding does not reach it.
    expect((await call('GET', `/api/v1/namespaces/default/configmaps/one`, ALICE)).status).toBe(403);
    // Subresources are separate resources: pods/log is granted, pods and pods/exec are not.
    const sar = async (resourceAttributes: Record<string, string>): Promise<boolean> => {
      const r = await admin.post('/apis/authorization.k8s.io/v1/subjectaccessreviews', { spec: { user: 'alice', resourceAttributes: { namespace: ns, ...resourceAttributes } } });
      expect(r.status).toBe(201);
      return (r.body.status as { allowed: boolean }).allowed;
    };
    expect(await sar({ verb: 'get', resource: 'pods', subresource: 'log', name: 'x' })).toBe(true);
    expect(await sar({ verb: 'get', resource: 'pods', name: 'x' })).toBe(false);
    expect(await sar({ verb: 'create', resource: 'pods', subresource: 'exec', name: 'x' })).toBe(false);
  });

  it('judges non-resource URLs by ClusterRoles, with trailing-* prefixes', async () => {
    await mustCreate('/apis/rbac.authorization.k8s.io/v1/clusterroles', { metadata: { name: 'metrics-reader' }, rules: [{ nonResourceURLs: ['/metrics', '/logs/*'], verbs: ['get'] }] });
    await mustCreate('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      metadata: { name: 'alice-metrics' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'metrics-reader' },
      subjects: [{ kind: 'User', name: 'alice' }],
    });
    const nr = async (path: string, verb = 'get'): Promise<boolean> => {
      const r = await admin.post('/apis/authorization.k8s.io/v1/subjectaccessreviews', { spec: { user: 'alice', nonResourceAttributes: { path, verb } } });
      return (r.body.status as { allowed: boolean }).allowed;
    };
    await waitFor(() => nr('/metrics'), { what: 'alice may get /metrics' });
    expect(await nr('/logs/kube-apiserver.log')).toBe(true);
    expect(await nr('/metrics', 'post')).toBe(false);
    expect(await nr('/metricsX')).toBe(false);
    // Every authenticated user may discover the API (system:discovery).
    expect((await call('GET', '/apis', ALICE)).status).toBe(200);
  });

  it('aggregates labelled ClusterRoles into view, edit and admin', async () => {
    await mustCreate('/apis/rbac.authorization.k8s.io/v1/clusterroles', {
      metadata: { name: 'widgets-view', labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } },
      rules: [{ apiGroups: ['example.com'], resources: ['widgets'], verbs: ['get', 'list'] }],
    });
    const hasWidgets = async (role: string): Promise<boolean> => {
      const r = await admin.get(`/apis/rbac.authorization.k8s.io/v1/clusterroles/${role}`);
      return JSON.stringify(r.body.rules ?? []).includes('widgets');
    };
    await waitFor(() => hasWidgets('view'), { what: 'view aggregates widgets-view' });
    await waitFor(() => hasWidgets('edit'), { what: 'edit aggregates view' });
    await waitFor(() => hasWidgets('admin'), { what: 'admin aggregates edit' });
    const view = await admin.get('/apis/rbac.authorization.k8s.io/v1/clusterroles/view');
    expect(JSON.stringify(view.body.rules)).toContain('"pods"');
    expect(JSON.stringify(view.body.rules)).not.toContain('"secrets"');
  });

  it('refuses a role or binding that grants more than its author holds, unless it may escalate or bind', async () => {
    const ns = await namespace();
    await mustCreate(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`, {
      metadata: { name: 'role-writer' },
      rules: [
        { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: ['create', 'get'] },
        { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] },
      ],
    });
    await mustCreate(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
      metadata: { name: 'alice-writer' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'role-writer' },
      subjects: [{ kind: 'User', name: 'alice' }],
    });
    const secretsRole = { metadata: { name: 'secrets-reader' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }] };
    const refused = await waitFor(async () => {
      const r = await call('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`, ALICE, secretsRole);
      return r.status === 403 && String(r.body.message).includes('attempting to grant') ? r : undefined;
    }, { what: 'escalation refused' });
    expect(refused.body.message).toBe(
      `roles.rbac.authorization.k8s.io "secrets-reader" is forbidden: user "alice" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}`,
    );
    // A role within what alice holds is fine.
    const ok = await call('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`, ALICE, { metadata: { name: 'cm-reader' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }] });
    expect(ok.status).toBe(201);
    // Binding herself to cluster-admin is escalation too.
    const bind = await call('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, ALICE, {
      metadata: { name: 'alice-admin' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'User', name: 'alice' }],
    });
    expect(bind.status).toBe(403);
    expect(String(bind.body.message)).toContain('is attempting to grant RBAC permissions not currently held');
    // With `bind` on that one role she may.
    await mustCreate(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`, {
      metadata: { name: 'binder' },
      rules: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], resourceNames: ['view'], verbs: ['bind'] }],
    });
    await mustCreate(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
      metadata: { name: 'alice-binder' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'binder' },
      subjects: [{ kind: 'User', name: 'alice' }],
    });
    await waitFor(async () => {
      const r = await call('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, ALICE, {
        metadata: { name: 'alice-view' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [{ kind: 'User', name: 'bob' }],
      });
      return r.status === 201;
    }, { what: 'bind permitted' });
  });

  it('lets a user who may patch a role change its finalizers and ownerReferences without holding its rules, but not its rules', async () => {
    const ns = await namespace();
    await mustCreate(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`, { metadata: { name: 'role-patcher' }, rules: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], verbs: ['get', 'patch'] }] });
    await mustCreate(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
      metadata: { name: 'alice-patcher' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'role-patcher' },
      subjects: [{ kind: 'User', name: 'alice' }],
    });
    await mustCreate(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`, { metadata: { name: 'secrets-reader' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }] });
    const patch = (body: unknown): Promise<Reply> => call('PATCH', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles/secrets-reader`, ALICE, body, 'application/merge-patch+json');
    // What the garbage collector does to a dependent (Kubernetes' IsOnlyMutatingGCFields).
    const gc = await waitFor(async () => {
      const r = await patch({ metadata: { finalizers: ['example.com/hold'] } });
      return r.status === 200 ? r : undefined;
    }, { what: 'the finalizer patch to be allowed' });
    expect((gc.body.metadata as { finalizers?: string[] }).finalizers).toEqual(['example.com/hold']);
    expect((await patch({ metadata: { finalizers: null } })).status).toBe(200);
    const rules = await patch({ rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] }] });
    expect(rules.status).toBe(403);
    expect(String(rules.body.message)).toContain('is attempting to grant RBAC permissions not currently held');
  });

  it('answers 422 naming the field for malformed roles, bindings and review bodies', async () => {
    const role = await admin.post('/apis/rbac.authorization.k8s.io/v1/clusterroles', { metadata: { name: 'bad-role' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: [] }] });
    expect(role.status).toBe(422);
    expect(role.body.message).toContain('rules[0].verbs: Required value');
    const binding = await admin.post('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      metadata: { name: 'bad-binding' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [{ kind: 'Robot', name: 'r2' }],
    });
    expect(binding.status).toBe(422);
    expect(binding.body.message).toContain('subjects[0].kind: Unsupported value: "Robot"');
    const sar = '/apis/authorization.k8s.io/v1/subjectaccessreviews';
    const noSpec = await admin.post(sar, { kind: 'SubjectAccessReview' });
    expect(noSpec.status).toBe(422);
    expect(noSpec.body.message).toContain('spec');
    const neither = await admin.post(sar, { spec: { user: 'alice' } });
    expect(neither.status).toBe(422);
    expect(neither.body.message).toContain('spec.resourceAttributes: Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified');
    const both = await admin.post(sar, { spec: { user: 'alice', resourceAttributes: { verb: 'get', resource: 'pods' }, nonResourceAttributes: { path: '/x', verb: 'get' } } });
    expect(both.status).toBe(422);
    expect(both.body.message).toContain('spec.nonResourceAttributes');
    const noUser = await admin.post(sar, { spec: { resourceAttributes: { verb: 'get', resource: 'pods' } } });
    expect(noUser.status).toBe(422);
    expect(noUser.body.message).toContain('spec.user: Invalid value: "": at least one of user or group must be specified');
    const badType = await admin.post(sar, { spec: { user: 'alice', resourceAttributes: { verb: 7, resource: 'pods' } } });
    expect(badType.status).toBe(422);
    expect(badType.body.message).toContain('spec.resourceAttributes.verb');
    const notObject = await call('POST', sar, ADMIN, 'just a string');
    expect(notObject.status).toBe(400);
    const tr = await admin.post('/apis/authentication.k8s.io/v1/tokenreviews', { spec: {} });
    expect(tr.status).toBe(400);
    expect(tr.body.message).toBe('token is required for TokenReview in authentication');
  });
});

describe('ServiceAccount tokens', () => {
  async function serviceAccount(ns: string, name: string): Promise<void> {
    await mustCreate(`/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name } });
  }
  async function tokenFor(ns: string, sa: string, spec: Record<string, unknown> = {}): Promise<string> {
    const r = await admin.post(`/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return (r.body.status as { token: string }).token;
  }

  it('lists pods only once a RoleBinding grants it, and SelfSubjectAccessReview and SelfSubjectRulesReview agree', async () => {
    const ns = await namespace();
    await serviceAccount(ns, 'reader');
    const token = await tokenFor(ns, 'reader');
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: `system:serviceaccount:${ns}:reader`, iss: 'https://kubernetes.default.svc.cluster.local', 'kubernetes.io': { namespace: ns, serviceaccount: { name: 'reader' } } });
    const denied = await call('GET', `/api/v1/namespaces/${ns}/pods`, token);
    expect(denied.status).toBe(403);
    expect(denied.body.message).toBe(`pods is forbidden: User "system:serviceaccount:${ns}:reader" cannot list resource "pods" in API group "" in the namespace "${ns}"`);
    const ssar = async (): Promise<boolean> => {
      const r = await call('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', token, { spec: { resourceAttributes: { namespace: ns, verb: 'list', resource: 'pods' } } });
      expect(r.status).toBe(201);
      return (r.body.status as { allowed: boolean }).allowed;
    };
    expect(await ssar()).toBe(false);
    // What `kubectl auth can-i --list` reads (kubectl sends bearer tokens over TLS only, so it joins these
    // checks once the apiserver serves TLS).
    const rules = async (): Promise<{ verbs: string[]; apiGroups?: string[]; resources?: string[] }[]> => {
      const r = await call('POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', token, { spec: { namespace: ns } });
      expect(r.status).toBe(201);
      return (r.body.status as { resourceRules: { verbs: string[]; apiGroups?: string[]; resources?: string[] }[] }).resourceRules;
    };
    expect((await rules()).some((r) => r.resources?.includes('pods'))).toBe(false);
    await mustCreate(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
      metadata: { name: 'reader-view' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: ns }],
    });
    await waitFor(async () => (await call('GET', `/api/v1/namespaces/${ns}/pods`, token)).status === 200, { what: 'the bound account lists pods' });
    expect(await ssar()).toBe(true);
    const after = await rules();
    expect(after).toContainEqual(expect.objectContaining({ apiGroups: [''], verbs: ['get', 'list', 'watch'], resources: expect.arrayContaining(['pods', 'configmaps']) }));
    expect(after.some((r) => r.resources?.includes('secrets'))).toBe(false);
    expect(after).toContainEqual(expect.objectContaining({ resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] }));
    // whoami reads SelfSubjectReview.
    const who = await call('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', token, { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    expect(who.body.status).toMatchObject({ userInfo: { username: `system:serviceaccount:${ns}:reader`, groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'] } });
    // kubectl 1.27 asks v1beta1: the same answer in that version; a body that is not an object is a 400 there too.
    const beta = await call('POST', '/apis/authentication.k8s.io/v1beta1/selfsubjectreviews', token, { apiVersion: 'authentication.k8s.io/v1beta1', kind: 'SelfSubjectReview' });
    expect(beta.status).toBe(201);
    expect(beta.body).toMatchObject({ apiVersion: 'authentication.k8s.io/v1beta1', status: { userInfo: { username: `system:serviceaccount:${ns}:reader` } } });
    expect((await call('POST', '/apis/authentication.k8s.io/v1beta1/selfsubjectreviews', token, [1, 2])).status).toBe(400);
    expect((await call('POST', '/apis/authentication.k8s.io/v1beta1/selfsubjectreviews', token, 'text')).status).toBe(400);
    // TokenReview tells the same.
    const review = await admin.post('/apis/authentication.k8s.io/v1/tokenreviews', { spec: { token } });
    expect(review.body.status).toMatchObject({ authenticated: true, user: { username: `system:serviceaccount:${ns}:reader` } });
  });

  it('answers 401 for expired, forged, wrong-audience, malformed and oversized tokens, and for a deleted account', async () => {
    const ns = await namespace();
    await serviceAccount(ns, 'sa');
    const good = await tokenFor(ns, 'sa');
    expect((await call('GET', '/apis', good)).status).toBe(200);
    const unauthorized = async (token: string): Promise<void> => {
      const r = await call('GET', '/apis', token);
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401, message: 'Unauthorized' });
    };
    const sa = (await admin.get(`/api/v1/namespaces/${ns}/serviceaccounts/sa`)).body;
    const expired = await cp.apiserver.security.tokens.issue(sa as never, ['https://kubernetes.default.svc.cluster.local'], 600, undefined, new Date(Date.now() - 3600_000));
    await unauthorized(expired.token);
    const otherKey = await generateKeyPair('RS256');
    const [, payload] = good.split('.');
    const forged = await new SignJWT(JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>).setProtectedHeader({ alg: 'RS256' }).sign(otherKey.privateKey);
    await unauthorized(forged);
    // Same signature, altered payload.
    const parts = good.split('.');
    const tampered = JSON.parse(Buffer.from(parts[1], 'base64url').toString()) as { sub: string };
    tampered.sub = `system:serviceaccount:kube-system:default`;
    await unauthorized(`${parts[0]}.${Buffer.from(JSON.stringify(tampered)).toString('base64url')}.${parts[2]}`);
    await unauthorized(await tokenFor(ns, 'sa', { audiences: ['https://vault.example'] }));
    await unauthorized('not.a.jwt');
    await unauthorized('x');
    await unauthorized('a'.repeat(16 * 1024 + 1).slice(0, 12_000) + '.b.c');
    // A header larger than Node's limit is refused before any parsing.
    const huge = await fetch(`${base}/apis`, { headers: { authorization: `Bearer ${'a'.repeat(70_000)}` } });
    expect(huge.status).toBe(431);
    // TokenReview reports the reason instead of failing.
    const review = await admin.post('/apis/authentication.k8s.io/v1/tokenreviews', { spec: { token: expired.token } });
    expect(review.body.status).toMatchObject({ authenticated: false, error: 'service account token has expired' });
    const wrongAud = await admin.post('/apis/authentication.k8s.io/v1/tokenreviews', { spec: { token: good, audiences: ['https://vault.example'] } });
    expect(wrongAud.body.status).toMatchObject({ authenticated: false });
    expect((await call('DELETE', `/api/v1/namespaces/${ns}/serviceaccounts/sa`, ADMIN)).status).toBe(200);
    await waitFor(async () => (await call('GET', '/apis', good)).status === 401, { what: "a deleted account's token refused" });
  });

  it('binds a token to a pod and invalidates it when the pod is deleted', async () => {
    const ns = await namespace();
    await serviceAccount(ns, 'runner');
    const p = await mustCreate(`/api/v1/namespaces/${ns}/pods`, pod('bound', { serviceAccountName: 'runner' }));
    const token = await tokenFor(ns, 'runner', { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'bound', uid: (p.metadata as { uid: string }).uid } });
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { 'kubernetes.io': { pod: { name: string } } };
    expect(claims['kubernetes.io'].pod.name).toBe('bound');
    expect((await call('GET', '/apis', token)).status).toBe(200);
    const who = await call('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', token, {});
    expect((who.body.status as { userInfo: { extra: Record<string, string[]> } }).userInfo.extra['authentication.kubernetes.io/pod-name']).toEqual(['bound']);
    expect((await call('DELETE', `/api/v1/namespaces/${ns}/pods/bound?gracePeriodSeconds=0`, ADMIN)).status).toBe(200);
    await waitFor(async () => (await call('GET', '/apis', token)).status === 401, { what: "a deleted pod's token refused" });
  });

  it('validates TokenRequest fields', async () => {
    const ns = await namespace();
    await serviceAccount(ns, 'sa');
    const short = await admin.post(`/api/v1/namespaces/${ns}/serviceaccounts/sa/token`, { spec: { expirationSeconds: 10 } });
    expect(short.status).toBe(422);
    expect(short.body.message).toContain('spec.expirationSeconds: Invalid value: 10: may not specify a duration less than 10 minutes');
    const kind = await admin.post(`/api/v1/namespaces/${ns}/serviceaccounts/sa/token`, { spec: { boundObjectRef: { kind: 'ConfigMap', name: 'x' } } });
    expect(kind.status).toBe(422);
    expect(kind.body.message).toContain('spec.boundObjectRef.kind: Unsupported value: "ConfigMap"');
    const missingPod = await admin.post(`/api/v1/namespaces/${ns}/serviceaccounts/sa/token`, { spec: { boundObjectRef: { kind: 'Pod', name: 'nope' } } });
    expect(missingPod.status).toBe(404);
    const missingSa = await admin.post(`/api/v1/namespaces/${ns}/serviceaccounts/nobody/token`, { spec: {} });
    expect(missingSa.status).toBe(404);
  });
});

describe('Node authorizer and NodeRestriction', () => {
  it("keeps a kubelet to its own pods' secrets and its own Node", async () => {
    const ns = await namespace({ 'pod-security.kubernetes.io/enforce': 'privileged' });
    for (const n of ['node-a', 'node-b']) await mustCreate('/api/v1/nodes', { metadata: { name: n } });
    for (const n of ['a', 'b']) {
      await mustCreate(`/api/v1/namespaces/${ns}/secrets`, { metadata: { name: `s-${n}` }, stringData: { k: n } });
      await mustCreate(
        `/api/v1/namespaces/${ns}/pods`,
        pod(`p-${n}`, { nodeName: `node-${n}`, volumes: [{ name: 'v', secret: { secretName: `s-${n}` } }] }, { volumeMounts: [{ name: 'v', mountPath: '/s' }] }),
      );
    }
    await mustCreate(`/api/v1/namespaces/${ns}/secrets`, { metadata: { name: 's-unused' }, stringData: { k: 'x' } });
    await waitFor(async () => (await call('GET', `/api/v1/namespaces/${ns}/secrets/s-a`, NODE_A)).status === 200, { what: 'node-a reads its pod\'s secret' });
    const other = await call('GET', `/api/v1/namespaces/${ns}/secrets/s-b`, NODE_A);
    expect(other.status).toBe(403);
    expect(other.body.message).toBe(
      `secrets "s-b" is forbidden: User "system:node:node-a" cannot get resource "secrets" in API group "" in the namespace "${ns}": no relationship found between node 'node-a' and this object`,
    );
    expect((await call('GET', `/api/v1/namespaces/${ns}/secrets/s-unused`, NODE_A)).status).toBe(403);
    expect((await call('GET', `/api/v1/namespaces/${ns}/secrets`, NODE_A)).status).toBe(403);
    expect((await call('GET', `/api/v1/namespaces/${ns}/secrets/s-b`, NODE_B)).status).toBe(200);
    // Nodes: own one yes, another no.
    const patch = (node: string, token: string) => call('PATCH', `/api/v1/nodes/${node}`, token, { metadata: { labels: { touched: 'yes' } } }, 'application/merge-patch+json');
    expect((await patch('node-a', NODE_A)).status).toBe(200);
    const foreign = await patch('node-b', NODE_A);
    expect(foreign.status).toBe(403);
    expect(foreign.body.message).toBe('nodes "node-b" is forbidden: node "node-a" is not allowed to modify node "node-b"');
    // Pod status: only of its own pods; the pod itself not at all.
    const status = (p: string) => call('PATCH', `/api/v1/namespaces/${ns}/pods/${p}/status`, NODE_A, { status: { message: 'hi' } }, 'application/merge-patch+json');
    expect((await status('p-a')).status).toBe(200);
    const foreignStatus = await status('p-b');
    expect(foreignStatus.status).toBe(403);
    expect(foreignStatus.body.message).toBe(`pods "p-b" is forbidden: node "node-a" can only update pod status for pods with spec.nodeName set to itself`);
    // Leases: only its own, only in kube-node-lease.
    const lease = (name: string) => call('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', NODE_A, { metadata: { name }, spec: { holderIdentity: name } });
    expect((await lease('node-a')).status).toBe(201);
    expect((await lease('node-b')).status).toBe(403);
  });
});

describe('Pod Security admission', () => {
  it('refuses a privileged pod under the baseline default, with Kubernetes\' message, and admits it where the namespace allows', async () => {
    const ns = await namespace();
    const priv = pod('root', {}, { securityContext: { privileged: true } });
    const refused = await admin.post(`/api/v1/namespaces/${ns}/pods`, priv);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({
      reason: 'Forbidden',
      message: 'pods "root" is forbidden: violates PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true)',
      details: { name: 'root', kind: 'pods' },
    });
    const hostile = await admin.post(`/api/v1/namespaces/${ns}/pods`, pod('host', { hostNetwork: true, hostPID: true, volumes: [{ name: 'root', hostPath: { path: '/' } }] }, { ports: [{ containerPort: 80, hostPort: 80 }] }));
    expect(hostile.body.message).toBe(
      'pods "host" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true, hostPID=true), hostPath volumes (volume "root"), hostPort (container "c" uses hostPort 80)',
    );
    const open = await namespace({ 'pod-security.kubernetes.io/enforce': 'privileged' });
    expect((await admin.post(`/api/v1/namespaces/${open}/pods`, priv)).status).toBe(201);
    const bad = await admin.post('/api/v1/namespaces', { metadata: { name: `bad-psa-${Date.now()}`, labels: { 'pod-security.kubernetes.io/enforce': 'superuser' } } });
    expect(bad.status).toBe(422);
    expect(bad.body.message).toContain('metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "superuser"');
  });

  it('warns for the warn level and for pod controllers\' templates', async () => {
    const ns = await namespace({ 'pod-security.kubernetes.io/warn': 'restricted' });
    const r = await admin.post(`/api/v1/namespaces/${ns}/pods`, pod('plain'));
    expect(r.status).toBe(201);
    expect(r.warning).toContain('would violate PodSecurity \\"restricted:latest\\": allowPrivilegeEscalation != false (container \\"c\\" must set securityContext.allowPrivilegeEscalation=false)');
    const deploy = await admin.post(`/apis/apps/v1/namespaces/${ns}/deployments`, {
      metadata: { name: 'd' },
      spec: { selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'busybox', securityContext: { privileged: true } }] } } },
    });
    expect(deploy.status).toBe(201);
    expect(deploy.warning).toContain('would violate PodSecurity \\"baseline:latest\\": privileged (container \\"c\\" must not set securityContext.privileged=true)');
  });
});

describe('ServiceAccounts in pods', () => {
  it('gives every namespace a default account and kube-root-ca.crt, and mounts the credentials into pods', async () => {
    const ns = await namespace();
    await waitFor(async () => (await admin.get(`/api/v1/namespaces/${ns}/configmaps/kube-root-ca.crt`)).status === 200, { what: 'kube-root-ca.crt published' });
    const p = (await mustCreate(`/api/v1/namespaces/${ns}/pods`, pod('app'))) as { spec: { serviceAccountName: string; volumes: { name: string; projected?: { sources: Record<string, unknown>[] } }[]; containers: { volumeMounts: { name: string; mountPath: string; readOnly: boolean }[] }[] } };
    expect(p.spec.serviceAccountName).toBe('default');
    const vol = p.spec.volumes.find((v) => v.name.startsWith('kube-api-access-'));
    expect(vol?.name).toMatch(/^kube-api-access-[a-z0-9]{5}$/);
    expect(vol?.projected?.sources).toEqual([
      { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ]);
    expect(p.spec.containers[0].volumeMounts).toContainEqual({ name: vol?.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' });
    // automountServiceAccountToken: false keeps the pod without credentials.
    const bare = (await mustCreate(`/api/v1/namespaces/${ns}/pods`, pod('bare', { automountServiceAccountToken: false }))) as { spec: { volumes?: unknown[] } };
    expect(bare.spec.volumes ?? []).toEqual([]);
    // A pod naming a missing account is refused.
    const missing = await admin.post(`/api/v1/namespaces/${ns}/pods`, pod('ghost', { serviceAccountName: 'ghost' }));
    expect(missing.status).toBe(403);
    expect(missing.body.message).toBe(`pods "ghost" is forbidden: error looking up service account ${ns}/ghost: serviceaccount "ghost" not found`);
    // The node the pod is bound to may request the pod's token, another node may not.
    await mustCreate(`/api/v1/namespaces/${ns}/pods`, pod('on-a', { nodeName: 'node-a' }));
    const uid = ((await admin.get(`/api/v1/namespaces/${ns}/pods/on-a`)).body.metadata as { uid: string }).uid;
    const req = { spec: { expirationSeconds: 3607, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'on-a', uid } } };
    await waitFor(async () => (await call('POST', `/api/v1/namespaces/${ns}/serviceaccounts/default/token`, NODE_A, req)).status === 201, { what: 'node-a gets its pod token' });
    const b = await call('POST', `/api/v1/namespaces/${ns}/serviceaccounts/default/token`, NODE_B, req);
    expect(b.status).toBe(403);
  });
});

describe('the gRPC API', () => {
  it('answers the reviews (SelfSubjectAccessReview) as REST does, and refuses malformed and oversized ones with 4xx', async () => {
    const alice = new ApiClient(`127.0.0.1:${cp.apiserver.grpcPort}`, { token: ALICE, retries: 0 });
    try {
      const ask = (object: string) => (alice as unknown as { call: (m: string, r: object, o: object) => Promise<{ object: string }> }).call('Create', { resource: 'selfsubjectaccessreviews', namespace: '', object, dryRun: false, fieldValidation: '' }, {});
      const answer = JSON.parse((await ask(JSON.stringify({ spec: { resourceAttributes: { verb: 'list', resource: 'secrets', namespace: 'default' } } }))).object) as { status: { allowed: boolean } };
      expect(answer.status.allowed).toBe(false);
      const code = (object: string) => ask(object).then(() => 0, (e: unknown) => (e as ApiError).code);
      expect(await code('{not json')).toBe(400);
      expect(await code(JSON.stringify({ spec: { resourceAttributes: { verb: 7 } } }))).toBe(422);
      expect(await code(JSON.stringify({ spec: { resourceAttributes: { verb: 'get', resource: 'x'.repeat(3_200_000) } } }))).toBe(413);
      expect((await alice.create('selfsubjectaccessreviews', { spec: { resourceAttributes: { verb: 'create', resource: 'selfsubjectaccessreviews', group: 'authorization.k8s.io' } } } as never) as { status: { allowed: boolean } }).status.allowed).toBe(true);
    } finally {
      alice.close();
    }
  });

  it('authenticates the authorization metadata and authorizes through the same code path', async () => {
    const ns = await namespace();
    const as = (token: string): ApiClient => new ApiClient(`127.0.0.1:${cp.apiserver.grpcPort}`, { token, retries: 0 });
    const alice = as(ALICE);
    const bad = as('not.a.jwt');
    const adminClient = as(ADMIN);
    try {
      const denied = await alice.list('secrets', { namespace: ns }).catch((e: unknown) => e);
      expect(denied).toBeInstanceOf(ApiError);
      expect((denied as ApiError).reason).toBe('Forbidden');
      expect((denied as ApiError).message).toBe(`secrets is forbidden: User "alice" cannot list resource "secrets" in API group "" in the namespace "${ns}"`);
      const unauth = await bad.list('pods', { namespace: ns }).catch((e: unknown) => e);
      expect((unauth as ApiError).reason).toBe('Unauthorized');
      expect((await adminClient.list('secrets', { namespace: ns })).items).toEqual([]);
      // Admission sees the gRPC caller too: a node may not modify another node.
      const nodeA = as(NODE_A);
      try {
        await mustCreate('/api/v1/nodes', { metadata: { name: `grpc-${ns}` } });
        const refused = await nodeA.patch('nodes', `grpc-${ns}`, { metadata: { labels: { x: 'y' } } }, { type: 'merge' }).catch((e: unknown) => e);
        expect((refused as ApiError).message).toBe(`nodes "grpc-${ns}" is forbidden: node "node-a" is not allowed to modify node "grpc-${ns}"`);
      } finally {
        nodeA.close();
      }
    } finally {
      alice.close();
      bad.close();
      adminClient.close();
    }
  });
});

describe('a component with --token', () => {
  it('acts as that user: the scheduler leads (its Lease written with the token) where anonymous requests are refused', async () => {
    const flags = ['--apiserver', `127.0.0.1:${cp.apiserver.grpcPort}`, '--token', ADMIN, '--leader-elect-resource-name', 'token-scheduler', '--admin-port', '0'];
    const config = parseComponentConfig(schedulerComponent, flags, {});
    expect(config.token).toBe(ADMIN);
    const ctl = new AbortController();
    const running = await startScheduler(config, ctl.signal, { logger: nullLogger() });
    try {
      await waitFor(async () => (await admin.get('/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/token-scheduler')).status === 200, { what: 'the scheduler to take its Lease', timeoutMs: 30_000 });
      // The same flags without the token: the apiserver refuses the scheduler (no anonymous access here).
      const anonymous = new ApiClient(`127.0.0.1:${cp.apiserver.grpcPort}`, { token: parseComponentConfig(schedulerComponent, flags.slice(0, 2), {}).token, retries: 0 });
      try {
        expect(await anonymous.list('pods', { limit: 1 }).then(() => 'listed', (e: unknown) => (e as ApiError).reason)).toBe('Unauthorized');
      } finally {
        anonymous.close();
      }
    } finally {
      ctl.abort();
      await running.done;
    }
  });
});

describe('the audit log', () => {
  it('writes one JSON event per request at the level its policy rule gives', async () => {
    const ns = await namespace();
    await mustCreate(`/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: 'audited' }, data: { k: 'v' } });
    await mustCreate(`/api/v1/namespaces/${ns}/secrets`, { metadata: { name: 'quiet' }, stringData: { k: 'hidden-value' } });
    expect((await call('GET', `/api/v1/namespaces/${ns}/secrets/quiet`, ALICE)).status).toBe(403);
    await call('GET', '/healthz', undefined);
    const log = join(dir, 'audit.log');
    type Ev = { level: string; verb: string; objectRef?: { resource: string; namespace?: string; name?: string }; responseStatus: { code: number }; requestObject?: unknown; responseObject?: unknown; user: { username: string }; annotations?: Record<string, string>; requestURI: string };
    const events = (): Ev[] => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Ev) : []);
    const forbidden = await waitFor(() => events().find((e) => e.objectRef?.namespace === ns && e.objectRef.resource === 'secrets' && e.verb === 'get'), { what: 'the forbidden get audited' });
    expect(forbidden).toMatchObject({ level: 'Metadata', user: { username: 'alice' }, responseStatus: { code: 403 }, annotations: { 'authorization.k8s.io/decision': 'forbid' } });
    const created = events().find((e) => e.objectRef?.namespace === ns && e.objectRef.resource === 'configmaps' && e.verb === 'create');
    expect(created).toMatchObject({ level: 'RequestResponse', objectRef: { name: 'audited' }, responseStatus: { code: 201 }, requestObject: { data: { k: 'v' } }, responseObject: { metadata: { name: 'audited' } } });
    const secret = events().find((e) => e.objectRef?.namespace === ns && e.objectRef.resource === 'secrets' && e.verb === 'create');
    expect(secret?.level).toBe('Metadata');
    expect(JSON.stringify(secret)).not.toContain('hidden-value');
    expect(events().some((e) => e.requestURI === '/healthz')).toBe(false);
  });

  it('audits gRPC calls the same way: the user, the object as a REST path, the code, the decision, and a watch when it starts', async () => {
    const ns = await namespace();
    const as = (token: string): ApiClient => new ApiClient(`127.0.0.1:${cp.apiserver.grpcPort}`, { token, retries: 0 });
    const admin = as(ADMIN);
    const alice = as(ALICE);
    const log = join(dir, 'audit.log');
    type Ev = { level: string; stage: string; verb: string; requestURI: string; sourceIPs: string[]; objectRef?: { resource: string; namespace?: string; name?: string }; responseStatus: { code: number }; requestObject?: { data?: unknown }; responseObject?: { metadata?: { name?: string } }; user: { username: string }; annotations?: Record<string, string> };
    const events = (): Ev[] => readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Ev).filter((e) => e.objectRef?.namespace === ns && e.annotations?.['kubelab.io/transport'] === 'grpc');
    const watch = new AbortController();
    try {
      await admin.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'via-grpc', namespace: ns }, data: { k: 'grpc-value' } });
      await expect(alice.get('secrets', 'nothing', { namespace: ns })).rejects.toThrow(/cannot get resource "secrets"/);
      // The watch is audited once it is authorized (stage ResponseStarted), before any event.
      void admin.watch('configmaps', { namespace: ns, signal: watch.signal }).next().catch(() => undefined);
      await waitFor(() => events().some((e) => e.verb === 'watch'), { what: 'the gRPC watch audited' });
    } finally {
      watch.abort();
      admin.close();
      alice.close();
    }
    const created = await waitFor(() => events().find((e) => e.verb === 'create'), { what: 'the gRPC create audited' });
    expect(created).toMatchObject({
      level: 'RequestResponse',
      stage: 'ResponseComplete',
      // As a REST create: the collection it was POSTed to.
      requestURI: `/api/v1/namespaces/${ns}/configmaps`,
      objectRef: { resource: 'configmaps', namespace: ns, name: 'via-grpc' },
      sourceIPs: ['127.0.0.1'],
      user: { username: 'kubernetes-admin' },
      responseStatus: { code: 201 },
      requestObject: { data: { k: 'grpc-value' } },
      responseObject: { metadata: { name: 'via-grpc' } },
      annotations: { 'authorization.k8s.io/decision': 'allow' },
    });
    const refused = await waitFor(() => events().find((e) => e.verb === 'get' && e.objectRef?.resource === 'secrets'), { what: 'the refused gRPC get audited' });
    expect(refused).toMatchObject({ level: 'Metadata', user: { username: 'alice' }, responseStatus: { code: 403 }, annotations: { 'authorization.k8s.io/decision': 'forbid' } });
    const watched = await waitFor(() => events().find((e) => e.verb === 'watch'), { what: 'the gRPC watch audited' });
    expect(watched).toMatchObject({ stage: 'ResponseStarted', requestURI: `/api/v1/namespaces/${ns}/configmaps`, responseStatus: { code: 200 } });
  });
});
