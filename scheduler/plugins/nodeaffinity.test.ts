import { runScorePlugin } from '../framework.js';
import { describe, expect, it } from 'vitest';
import type { NodeSelectorRequirement } from 'kubernetes-types/core/v1.js';
import { nodeInfo, podInfo } from '../testing.js';
import { ERR_NODE_AFFINITY, nodeAffinity, NodeAffinityScore } from './nodeaffinity.js';

const node = nodeInfo({ name: 'n1', labels: { zone: 'a', cores: '8', disk: 'ssd' } });

function withRequired(...exprs: NodeSelectorRequirement[]) {
  return podInfo('p', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: exprs }] } } } });
}

describe('NodeAffinity filter', () => {
  it('applies nodeSelector', () => {
    expect(nodeAffinity(podInfo('p', { nodeSelector: { zone: 'a' } }), node).code).toBe('Success');
    expect(nodeAffinity(podInfo('p', { nodeSelector: { zone: 'b' } }), node)).toEqual({ code: 'UnschedulableAndUnresolvable', reasons: [ERR_NODE_AFFINITY] });
  });

  it.each([
    [{ key: 'zone', operator: 'In', values: ['a', 'b'] }, true],
    [{ key: 'zone', operator: 'In', values: ['b'] }, false],
    [{ key: 'zone', operator: 'NotIn', values: ['b'] }, true],
    [{ key: 'zone', operator: 'NotIn', values: ['a'] }, false],
    [{ key: 'absent', operator: 'NotIn', values: ['a'] }, true],
    [{ key: 'disk', operator: 'Exists' }, true],
    [{ key: 'gpu', operator: 'Exists' }, false],
    [{ key: 'gpu', operator: 'DoesNotExist' }, true],
    [{ key: 'disk', operator: 'DoesNotExist' }, false],
    [{ key: 'cores', operator: 'Gt', values: ['4'] }, true],
    [{ key: 'cores', operator: 'Gt', values: ['8'] }, false],
    [{ key: 'cores', operator: 'Lt', values: ['16'] }, true],
    [{ key: 'zone', operator: 'Lt', values: ['16'] }, false],
    [{ key: 'absent', operator: 'Gt', values: ['1'] }, false],
  ] as [NodeSelectorRequirement, boolean][])('%j matches: %s', (expr, fits) => {
    expect(nodeAffinity(withRequired(expr), node).code).toBe(fits ? 'Success' : 'UnschedulableAndUnresolvable');
  });

  it('ANDs expressions within a term and ORs terms; matchFields selects by node name', () => {
    expect(nodeAffinity(withRequired({ key: 'zone', operator: 'In', values: ['a'] }, { key: 'gpu', operator: 'Exists' }), node).code).not.toBe('Success');
    const terms = podInfo('p', {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'gpu', operator: 'Exists' }] }, { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }],
          },
        },
      },
    });
    expect(nodeAffinity(terms, node).code).toBe('Success');
    expect(nodeAffinity(terms, nodeInfo({ name: 'n2' })).code).not.toBe('Success');
  });
});

describe('NodeAffinity score', () => {
  it('prefers nodes matching heavier preferred terms', () => {
    const pod = podInfo('p', {
      affinity: {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 10, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } },
            { weight: 30, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] } },
          ],
        },
      },
    });
    const nodes = [node, nodeInfo({ name: 'n2', labels: { zone: 'b' } }), nodeInfo({ name: 'n3' })];
    const out = new Float64Array(3);
    runScorePlugin(NodeAffinityScore, pod, nodes, out);
    expect([...out].map(Math.round)).toEqual([33, 100, 0]);
  });
});
