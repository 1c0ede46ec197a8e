import { describe, expect, it } from 'vitest';
import { nodeInfo, podInfo } from '../testing.js';
import { ERR_NODE_NAME, nodeName } from './nodename.js';

describe('NodeName', () => {
  it('fits only the named node', () => {
    const pod = podInfo('p', { nodeName: 'a' });
    expect(nodeName(pod, nodeInfo({ name: 'a' })).code).toBe('Success');
    expect(nodeName(pod, nodeInfo({ name: 'b' })).reasons).toEqual([ERR_NODE_NAME]);
  });
  it('fits every node when no node is named', () => {
    expect(nodeName(podInfo('p'), nodeInfo({ name: 'b' })).code).toBe('Success');
  });
});
