import { describe, expect, it } from 'vitest';
import { makePod, nodeInfo, podInfo, requests } from '../testing.js';
import { nodeResourcesFit, scoreLeastAllocated } from './noderesources.js';

describe('NodeResourcesFit', () => {
  it('counts what assigned pods already request', () => {
    const node = nodeInfo({ name: 'n', cpu: '2', memory: '4Gi' }, [makePod('a', { containers: [requests('1500m', '1Gi')] })]);
    expect(nodeResourcesFit(podInfo('p', { containers: [requests('500m')] }), node).code).toBe('Success');
    expect(nodeResourcesFit(podInfo('p', { containers: [requests('501m')] }), node)).toEqual({ code: 'Unschedulable', reasons: ['Insufficient cpu'] });
    expect(nodeResourcesFit(podInfo('p', { containers: [requests('1', '4Gi')] }), node).reasons).toEqual(['Insufficient cpu', 'Insufficient memory']);
  });

  it('enforces the pod count', () => {
    const node = nodeInfo({ name: 'n', pods: 1 }, [makePod('a')]);
    expect(nodeResourcesFit(podInfo('p'), node).reasons).toEqual(['Too many pods']);
  });

  it('applies the init-container max rule', () => {
    const node = nodeInfo({ name: 'n', cpu: '2' });
    const big = podInfo('p', { initContainers: [requests('2500m')], containers: [requests('100m')] });
    expect(big.cpu).toBe(2500);
    expect(nodeResourcesFit(big, node).reasons).toEqual(['Insufficient cpu']);
    const small = podInfo('p', { initContainers: [requests('1')], containers: [requests('500m'), requests('700m')] });
    expect(small.cpu).toBe(1200);
    expect(nodeResourcesFit(small, node).code).toBe('Success');
  });

  it('checks extended resources', () => {
    const node = nodeInfo({ name: 'n' });
    const pod = podInfo('p', { containers: [{ name: 'c', image: 'x', resources: { requests: { 'example.com/gpu': '1' } } }] });
    expect(nodeResourcesFit(pod, node).reasons).toEqual(['Insufficient example.com/gpu']);
  });
});

describe('LeastAllocated', () => {
  it('prefers the emptier node', () => {
    const busy = nodeInfo({ name: 'busy', cpu: '4', memory: '8Gi' }, [makePod('a', { containers: [requests('2', '4Gi')] })]);
    const idle = nodeInfo({ name: 'idle', cpu: '4', memory: '8Gi' });
    const out = new Float64Array(2);
    scoreLeastAllocated(podInfo('p', { containers: [requests('1', '2Gi')] }), [busy, idle], out);
    expect([...out]).toEqual([25, 75]);
  });
});
