import { describe, expect, it } from 'vitest';
import { Nominator } from './nominator.js';
import { podInfo } from './testing.js';

describe('Nominator', () => {
  it('keeps one node per pod and forgets empty nodes', () => {
    const n = new Nominator();
    const p = podInfo('p', { priority: 10 });
    n.add(p, 'a');
    n.add(p, 'b');
    expect(n.nodeOf(p.uid)).toBe('b');
    expect(n.onNode('a')).toBeUndefined();
    expect([...(n.onNode('b')?.keys() ?? [])]).toEqual([p.uid]);
    expect(n.size).toBe(1);
    n.remove(p.uid);
    expect(n.size).toBe(0);
    expect(n.onNode('b')).toBeUndefined();
  });

  it('lists the lower-priority pods nominated to a node', () => {
    const n = new Nominator();
    n.add(podInfo('low', { priority: 1 }), 'a');
    n.add(podInfo('high', { priority: 100 }), 'a');
    n.add(podInfo('elsewhere', { priority: 1 }), 'b');
    expect(n.lowerPriorityOn('a', 50).map((p) => p.name)).toEqual(['low']);
  });
});
