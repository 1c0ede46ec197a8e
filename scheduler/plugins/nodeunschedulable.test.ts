import { describe, expect, it } from 'vitest';
import { nodeInfo, podInfo } from '../testing.js';
import { ERR_NODE_UNSCHEDULABLE, nodeUnschedulable } from './nodeunschedulable.js';

describe('NodeUnschedulable', () => {
  it('rejects a cordoned node', () => {
    const s = nodeUnschedulable(podInfo('p'), nodeInfo({ name: 'n', unschedulable: true }));
    expect(s).toEqual({ code: 'UnschedulableAndUnresolvable', reasons: [ERR_NODE_UNSCHEDULABLE] });
  });
  it('admits a pod that tolerates the cordon, and any pod on an uncordoned node', () => {
    const tolerant = podInfo('p', { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] });
    expect(nodeUnschedulable(tolerant, nodeInfo({ name: 'n', unschedulable: true })).code).toBe('Success');
    expect(nodeUnschedulable(podInfo('p'), nodeInfo({ name: 'n' })).code).toBe('Success');
  });
});
