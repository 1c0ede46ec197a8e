import { describe, expect, it } from 'vitest';
import { RESOURCES, resourceInfo, type ResourceInfo } from '../../api/resources.js';
import type { KObject } from '../../api/types.js';
import { tableWith } from '../../api/tables.js';
import { STRATEGIES, strategyFor, validateObject } from './index.js';

const info = (resource: string): ResourceInfo => {
  const i = resourceInfo(resource);
  if (!i) throw new Error(resource);
  return i;
};

describe('strategy registry', () => {
  it('has one strategy for every stored resource in the table, and none for anything else', () => {
    const stored = RESOURCES.filter((i) => !i.virtual).map((i) => i.resource).sort();
    expect([...STRATEGIES.keys()].sort()).toEqual(stored);
  });

  it('fills in the generic behaviour: status kept on update only for kinds with a status subresource', () => {
    const cur: KObject = { metadata: { name: 'x' }, status: { phase: 'Bound' } };
    const withStatus: KObject = { metadata: { name: 'x' }, status: { phase: 'Lost' } };
    strategyFor(info('persistentvolumeclaims')).prepareForUpdate(withStatus, cur);
    expect(withStatus.status).toEqual({ phase: 'Bound' });
    const noStatus: KObject = { metadata: { name: 'x' }, data: {} };
    strategyFor(info('configmaps')).prepareForUpdate(noStatus, { metadata: { name: 'x' }, data: { a: 'b' } });
    expect(noStatus).toEqual({ metadata: { name: 'x' }, data: {} });
    expect(strategyFor(info('configmaps')).tracksGeneration).toBe(true);
    expect(strategyFor(info('namespaces')).tracksGeneration).toBe(false);
  });
});

describe('IngressClass', () => {
  const ic = info('ingressclasses');
  const obj = (spec: unknown): KObject => ({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'external' }, spec });
  const msgs = (o: KObject): string[] => validateObject(ic, o).map((c) => `${c.field}: ${c.message}`);

  it('requires a domain-prefixed controller and a complete parameters reference', () => {
    expect(msgs(obj({ controller: 'example.com/ingress' }))).toEqual([]);
    expect(msgs(obj({}))).toEqual(['spec.controller: Required value']);
    expect(msgs(obj({ controller: 'nginx' }))).toEqual(['spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")']);
    expect(msgs(obj({ controller: 'a.io/b', parameters: { kind: 'P', scope: 'Namespace' } }))).toEqual([
      'spec.parameters.name: Required value',
      'spec.parameters.namespace: Required value: `parameters.scope` is set to `Namespace`',
    ]);
  });

  it('keeps the controller once set', () => {
    const causes = strategyFor(ic).validateUpdate(obj({ controller: 'b.io/c' }), obj({ controller: 'a.io/b' }), { subresource: '', ignoreImmutability: false });
    expect(causes.map((c) => `${c.field}: ${c.message}`)).toEqual(['spec.controller: Invalid value: "b.io/c": field is immutable']);
  });

  it('prints CONTROLLER and PARAMETERS columns', () => {
    const t = tableWith(strategyFor(ic).columns, [obj({ controller: 'a.io/b', parameters: { apiGroup: 'k8s.example.com', kind: 'P', name: 'lb' } }), obj({ controller: 'a.io/b' })], { now: 0 });
    expect(t.columns.map((c) => c.name)).toEqual(['Name', 'Controller', 'Parameters', 'Age']);
    expect(t.rows.map((r) => r.cells.slice(1, 3))).toEqual([
      ['a.io/b', 'P.k8s.example.com/lb'],
      ['a.io/b', '<none>'],
    ]);
  });
});

describe('Ingress', () => {
  const ing = info('ingresses');
  const obj = (spec: unknown, annotations?: Record<string, string>): KObject => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'web', namespace: 'default', ...(annotations ? { annotations } : {}) },
    spec,
  });
  const msgs = (o: KObject): string[] => {
    strategyFor(ing).defaults(o);
    return validateObject(ing, o).map((c) => `${c.field}: ${c.message}`);
  };
  const backend = { service: { name: 'web', port: { number: 80 } } };

  it('validates rules, paths, backends and TLS as ValidateIngressSpec, naming each field', () => {
    expect(msgs(obj({ rules: [{ host: 'a.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend }] } }] }))).toEqual([]);
    expect(msgs(obj({}))).toEqual(['spec: Invalid value: either `defaultBackend` or `rules` must be specified']);
    expect(
      msgs(
        obj({
          rules: [
            { host: '10.0.0.1', http: { paths: [{ path: 'rel', pathType: 'Exact', backend }] } },
            { host: '*.ok.example', http: { paths: [{ path: '/a//b', pathType: 'Prefix', backend: { service: { name: 'Web', port: {} } } }] } },
            { http: { paths: [{ path: '/x', pathType: 'Regex', backend: { service: { name: 'web', port: { number: 80, name: 'http' } } } }] } },
          ],
          tls: [{ hosts: ['*'], secretName: 'Bad_Name' }],
        }),
      ),
    ).toEqual([
      'spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address',
      'spec.rules[0].http.paths[0].path: Invalid value: "rel": must be an absolute path',
      'spec.rules[1].http.paths[0].path: Invalid value: "/a//b": must not contain \'//\'',
      expect.stringMatching(/^spec\.rules\[1\]\.http\.paths\[0\]\.backend\.service\.name: Invalid value: "Web": a lowercase RFC 1123 label/),
      'spec.rules[1].http.paths[0].backend.service.port: Invalid value: port name or number is required',
      'spec.rules[2].http.paths[0].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"',
      'spec.rules[2].http.paths[0].backend.service.port: Invalid value: cannot set both port name & port number',
      expect.stringMatching(/^spec\.tls\[0\]\.hosts\[0\]: Invalid value: "\*": a lowercase RFC 1123 subdomain/),
      expect.stringMatching(/^spec\.tls\[0\]\.secretName: Invalid value: "Bad_Name"/),
    ]);
  });

  it('defaults a missing pathType to ImplementationSpecific', () => {
    const o = obj({ rules: [{ http: { paths: [{ path: '/', backend }] } }] });
    expect(msgs(o)).toEqual([]);
    expect((o.spec as { rules: { http: { paths: { pathType: string }[] } }[] }).rules[0]?.http.paths[0]?.pathType).toBe('ImplementationSpecific');
  });

  it('prints CLASS, HOSTS, ADDRESS and PORTS as kubectl does', () => {
    const a = obj({ ingressClassName: 'nginx', rules: ['a', 'b', 'c', 'd'].map((h) => ({ host: `${h}.example` })), tls: [{ hosts: ['a.example'] }] });
    a.status = { loadBalancer: { ingress: [{ ip: '10.213.0.11' }] } };
    const t = tableWith(strategyFor(ing).columns, [a, obj({ defaultBackend: backend })], { now: 0 });
    expect(t.columns.map((c) => c.name)).toEqual(['Name', 'Class', 'Hosts', 'Address', 'Ports', 'Age']);
    expect(t.rows.map((r) => r.cells.slice(1, 5))).toEqual([
      ['nginx', 'a.example,b.example,c.example + 1 more...', '10.213.0.11', '80, 443'],
      ['<none>', '*', '', '80'],
    ]);
  });
});
