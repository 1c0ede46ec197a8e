import { describe, expect, it } from 'vitest';
import { SchedulerCache } from './cache.js';
import { makeNode, podInfo, requests } from './testing.js';

describe('SchedulerCache', () => {
  it('counts assumed pods against the node until forgotten', () => {
    const c = new SchedulerCache();
    c.addOrUpdateNode(makeNode({ name: 'n1', cpu: '2' }));
    const p = podInfo('p', { containers: [requests('1')] });
    c.assume(p, 'n1');
    expect(c.node('n1')?.requestedCpu).toBe(1000);
    expect(c.isAssumed(p.uid)).toBe(true);
    c.forget(p.uid);
    expect(c.node('n1')?.requestedCpu).toBe(0);
    expect(c.node('n1')?.podCount).toBe(0);
  });

  it('confirms an assumed pod through the watch without counting it twice', () => {
    const c = new SchedulerCache();
    c.addOrUpdateNode(makeNode({ name: 'n1' }));
    const p = podInfo('p', { containers: [requests('1')] });
    c.assume(p, 'n1');
    c.addOrUpdatePod(p, 'n1');
    expect(c.isAssumed(p.uid)).toBe(false);
    expect(c.node('n1')?.podCount).toBe(1);
    c.forget(p.uid); // a late bind failure must not drop a confirmed pod
    expect(c.node('n1')?.podCount).toBe(1);
  });

  it('holds the newest object of a placed pod after a status update, with its counts unchanged', () => {
    const c = new SchedulerCache();
    c.addOrUpdateNode(makeNode({ name: 'n1' }));
    const p = podInfo('p', { containers: [requests('1')] });
    c.addOrUpdatePod(p, 'n1');
    const running = { ...p.pod, status: { phase: 'Running' } };
    c.refreshPod(running);
    expect(c.node('n1')?.pods.get(p.uid)?.pod).toBe(running); // the old object is no longer held
    expect(c.node('n1')?.requestedCpu).toBe(1000);
    expect(c.node('n1')?.podCount).toBe(1);
    c.refreshPod({ ...p.pod, metadata: { ...p.pod.metadata, uid: 'not-placed' } }); // unknown pods are ignored
    expect(c.node('n1')?.podCount).toBe(1);
  });

  it('keeps pods of a node it has not seen yet, and counts them once the node arrives', () => {
    const c = new SchedulerCache();
    c.addOrUpdatePod(podInfo('p', { containers: [requests('500m')] }), 'late');
    expect(c.list()).toHaveLength(0);
    c.addOrUpdateNode(makeNode({ name: 'late' }));
    expect(c.list().map((n) => n.name)).toEqual(['late']);
    expect(c.node('late')?.requestedCpu).toBe(500);
    c.removeNode('late');
    expect(c.list()).toHaveLength(0);
  });

  it('moves a pod bound elsewhere than assumed', () => {
    const c = new SchedulerCache();
    c.addOrUpdateNode(makeNode({ name: 'a' }));
    c.addOrUpdateNode(makeNode({ name: 'b' }));
    const p = podInfo('p');
    c.assume(p, 'a');
    c.addOrUpdatePod(p, 'b');
    expect(c.node('a')?.podCount).toBe(0);
    expect(c.node('b')?.podCount).toBe(1);
    c.removePod(p.uid);
    expect(c.node('b')?.podCount).toBe(0);
  });
});
