import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Attributes } from './auth/attributes.js';
import { AuditLog, auditLevel, parseAuditPolicy, type AuditRecord } from './audit.js';

const attrs = (o: Partial<Attributes>): Attributes => ({
  user: { name: 'u', groups: ['system:authenticated'] },
  verb: 'get',
  resourceRequest: true,
  namespace: 'ns',
  apiGroup: '',
  apiVersion: 'v1',
  resource: 'pods',
  subresource: '',
  name: 'p',
  path: '',
  ...o,
});

describe('audit policy', () => {
  const rules = parseAuditPolicy(`apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: None
    users: ["system:kube-proxy"]
  - level: None
    nonResourceURLs: ["/healthz*"]
  - level: Metadata
    resources: [{ group: "", resources: ["secrets", "configmaps"] }]
  - level: RequestResponse
    verbs: ["create"]
    resources: [{ group: "apps", resources: ["deployments/*"] }]
  - level: Request
    namespaces: ["kube-system"]
  - level: Metadata
`);
  it.each([
    ['a user rule', attrs({ user: { name: 'system:kube-proxy', groups: [] } }), 'None'],
    ['a URL prefix', attrs({ resourceRequest: false, path: '/healthz/etcd', verb: 'get' }), 'None'],
    ['secrets', attrs({ resource: 'secrets' }), 'Metadata'],
    ['a subresource wildcard', attrs({ verb: 'create', apiGroup: 'apps', resource: 'deployments', subresource: 'scale' }), 'RequestResponse'],
    ['not the resource itself', attrs({ verb: 'create', apiGroup: 'apps', resource: 'deployments', namespace: 'x' }), 'Metadata'],
    ['a namespace', attrs({ namespace: 'kube-system' }), 'Request'],
    ['the catch-all', attrs({}), 'Metadata'],
  ])('%s', (_n, a, want) => expect(auditLevel(rules, a)).toBe(want));

  it('names the field of a bad policy', () => {
    expect(() => parseAuditPolicy('kind: Policy\nrules:\n  - level: Everything\n')).toThrow('rules[0].level: Unsupported value: "Everything"');
    expect(() => parseAuditPolicy('kind: Other')).toThrow('kind: must be "Policy"');
  });
});

describe('audit log rotation (--audit-log-maxsize, --audit-log-maxbackup)', () => {
  const record = (i: number): AuditRecord => ({ attrs: attrs({ name: `p-${i}` }), requestURI: `/api/v1/namespaces/ns/pods/p-${i}`, sourceIP: '127.0.0.1', code: 200, started: new Date() });
  const lines = (f: string): string[] => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : []);

  it('starts a new file past the size, keeps maxbackup old ones, and loses no event that was kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubelab-audit-'));
    try {
      const path = join(dir, 'sub', 'audit.log'); // a missing directory is made
      const log = new AuditLog([{ level: 'Metadata' }], path, { maxSizeBytes: 4096, maxBackups: 2 });
      for (let i = 0; i < 100; i++) log.write(record(i), 'Metadata');
      await log.close();
      const files = [path, `${path}.1`, `${path}.2`];
      for (const f of files) expect(statSync(f).size, f).toBeLessThanOrEqual(4096);
      expect(existsSync(`${path}.3`)).toBe(false);
      // The newest events, in order, across the kept files (oldest file first).
      const names = [...files].reverse().flatMap((f) => lines(f).map((l) => (JSON.parse(l) as { objectRef: { name: string } }).objectRef.name));
      expect(names.at(-1)).toBe('p-99');
      const first = Number(names[0]?.slice(2));
      expect(names).toEqual(Array.from({ length: 100 - first }, (_, i) => `p-${first + i}`));
      // Appends to an existing file count its size: a restarted apiserver rotates at the same size.
      const again = new AuditLog([{ level: 'Metadata' }], path, { maxSizeBytes: 4096, maxBackups: 2 });
      const before = lines(path).length;
      again.write(record(100), 'Metadata');
      await again.close();
      expect(lines(path).length === before + 1 || lines(path).length === 1).toBe(true);
      expect(statSync(path).size).toBeLessThanOrEqual(4096);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never rotates with maxsize 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubelab-audit-'));
    try {
      const path = join(dir, 'audit.log');
      const log = new AuditLog([{ level: 'Metadata' }], path);
      for (let i = 0; i < 50; i++) log.write(record(i), 'Metadata');
      await log.close();
      expect(lines(path)).toHaveLength(50);
      expect(existsSync(`${path}.1`)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the lab's audit policy (deploy/audit-policy.yaml)", () => {
  const rules = parseAuditPolicy(readFileSync(new URL('../deploy/audit-policy.yaml', import.meta.url), 'utf8'));
  const user = (name: string, ...groups: string[]) => ({ name, groups: [...groups, 'system:authenticated'] });
  it.each([
    ['a Secret, never its data', attrs({ resource: 'secrets', verb: 'create' }), 'Metadata'],
    ['a ConfigMap, never its data', attrs({ resource: 'configmaps', verb: 'update' }), 'Metadata'],
    ['a TokenReview (carries a token)', attrs({ apiGroup: 'authentication.k8s.io', resource: 'tokenreviews', verb: 'create', namespace: '', name: '' }), 'Metadata'],
    ["a user's change, with its body", attrs({ verb: 'patch', apiGroup: 'apps', resource: 'deployments', user: user('kubernetes-admin', 'system:masters') }), 'Request'],
    ["a user's read", attrs({ verb: 'list', user: user('alice') }), 'Metadata'],
    ['a kubelet renewing its Lease', attrs({ verb: 'update', apiGroup: 'coordination.k8s.io', resource: 'leases', user: user('system:node:worker-1', 'system:nodes') }), 'None'],
    ['Events', attrs({ verb: 'create', resource: 'events' }), 'None'],
    ["a controller's watch", attrs({ verb: 'watch', resource: 'pods', user: user('system:kube-controller-manager') }), 'None'],
    ['health checks', attrs({ resourceRequest: false, path: '/readyz', verb: 'get' }), 'None'],
    ["the dashboard's periodic permission check", attrs({ verb: 'create', apiGroup: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews', namespace: '', name: '', user: user('system:kubelab-dashboard') }), 'None'],
    ["a user's kubectl auth can-i", attrs({ verb: 'create', apiGroup: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews', namespace: '', name: '', user: user('alice') }), 'Request'],
    ["a kubelet's pod status update", attrs({ verb: 'patch', resource: 'pods', subresource: 'status', user: user('system:node:worker-1', 'system:nodes') }), 'Request'],
  ])('%s', (_what, a, level) => {
    expect(auditLevel(rules, a)).toBe(level);
  });
});
