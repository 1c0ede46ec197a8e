import { runScorePlugin } from '../framework.js';
import { describe, expect, it } from 'vitest';
import { nodeInfo, podInfo } from '../testing.js';
import { TaintTolerationScore, taintToleration, toleratesTaint } from './tainttoleration.js';

describe('TaintToleration', () => {
  const gpu = { key: 'gpu', value: 'true', effect: 'NoSchedule' as const };

  it('rejects untolerated NoSchedule/NoExecute taints with the taint in the reason', () => {
    const s = taintToleration(podInfo('p'), nodeInfo({ name: 'n', taints: [gpu] }));
    expect(s).toEqual({ code: 'UnschedulableAndUnresolvable', reasons: ['node(s) had untolerated taint {gpu: true}'] });
    const ne = taintToleration(podInfo('p'), nodeInfo({ name: 'n', taints: [{ key: 'x', effect: 'NoExecute' }] }));
    expect(ne.reasons).toEqual(['node(s) had untolerated taint {x: }']);
  });

  it('admits pods with a matching toleration; PreferNoSchedule never filters', () => {
    const tol = podInfo('p', { tolerations: [{ key: 'gpu', operator: 'Equal', value: 'true', effect: 'NoSchedule' }] });
    expect(taintToleration(tol, nodeInfo({ name: 'n', taints: [gpu] })).code).toBe('Success');
    expect(taintToleration(podInfo('p'), nodeInfo({ name: 'n', taints: [{ key: 'a', effect: 'PreferNoSchedule' }] })).code).toBe('Success');
  });

  it('follows Kubernetes toleration matching rules', () => {
    expect(toleratesTaint({ operator: 'Exists' }, gpu)).toBe(true);
    expect(toleratesTaint({ key: 'gpu', operator: 'Exists' }, gpu)).toBe(true);
    expect(toleratesTaint({ key: 'gpu', value: 'false' }, gpu)).toBe(false);
    expect(toleratesTaint({ key: 'gpu', value: 'true', effect: 'NoExecute' }, gpu)).toBe(false);
    expect(toleratesTaint({ key: 'gpu', value: 'true' }, gpu)).toBe(true);
  });

  it('scores nodes with untolerated PreferNoSchedule taints lower', () => {
    const nodes = [nodeInfo({ name: 'a' }), nodeInfo({ name: 'b', taints: [{ key: 'slow', effect: 'PreferNoSchedule' }] })];
    const out = new Float64Array(2);
    runScorePlugin(TaintTolerationScore, podInfo('p'), nodes, out);
    expect([...out]).toEqual([100, 0]);
    runScorePlugin(TaintTolerationScore, podInfo('p', { tolerations: [{ key: 'slow', operator: 'Exists' }] }), nodes, out);
    expect([...out]).toEqual([100, 100]);
  });
});
