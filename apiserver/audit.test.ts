import { describe, expect, it } from 'vitest';
import type { Attributes } from './auth/attributes.js';
import { auditLevel, parseAuditPolicy } from './audit.js';

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
