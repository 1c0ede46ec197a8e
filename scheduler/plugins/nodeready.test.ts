import { describe, expect, it } from 'vitest';
import { nodeInfo, podInfo } from '../testing.js';
import { ERR_NODE_NOT_READY, nodeReady } from './nodeready.js';

describe('NodeReady', () => {
  it('rejects a node that is not Ready', () => {
    expect(nodeReady(podInfo('p'), nodeInfo({ name: 'n', ready: false }))).toEqual({ code: 'UnschedulableAndUnresolvable', reasons: [ERR_NODE_NOT_READY] });
    expect(nodeReady(podInfo('p'), nodeInfo({ name: 'n' })).code).toBe('Success');
  });
  it('admits pods that tolerate the not-ready taint (DaemonSet pods)', () => {
    const pod = podInfo('p', { tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists' }] });
    expect(nodeReady(pod, nodeInfo({ name: 'n', ready: false })).code).toBe('Success');
  });
});
