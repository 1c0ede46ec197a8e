import { describe, expect, it } from 'vitest';
import { RESOURCES, resourceInfo, type ResourceInfo } from '../../client/resources.js';
import type { KObject } from '../../client/types.js';
import { tableWith } from '../../client/tables.js';
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
