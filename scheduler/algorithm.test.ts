import { describe, expect, it } from 'vitest';
import { Algorithm } from './algorithm.js';
import { DEFAULT_FILTERS, DEFAULT_SCORES } from './plugins/index.js';
import { makePod, nodeInfo, podInfo, requests } from './testing.js';
import { addPodToNode } from './nodeinfo.js';
import { newPodInfo } from './podinfo.js';
import { fitErrorMessage } from './diagnosis.js';

const algo = (random?: () => number) => new Algorithm({ filters: DEFAULT_FILTERS, scores: DEFAULT_SCORES, random });

describe('Algorithm', () => {
  it('explains why no node fits', () => {
    const nodes = [nodeInfo({ name: 'a', unschedulable: true }), nodeInfo({ name: 'b', cpu: '1' }), nodeInfo({ name: 'c', cpu: '1' })];
    const r = algo().schedule(podInfo('p', { containers: [requests('2')] }), nodes);
    expect(r.node).toBeUndefined();
    expect(fitErrorMessage(3, r.diagnosis!)).toBe(
      '0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
    );
  });

  it('picks the least allocated feasible node', () => {
    const nodes = [nodeInfo({ name: 'small', cpu: '1' }), nodeInfo({ name: 'big', cpu: '8' })];
    expect(algo().schedule(podInfo('p', { containers: [requests('500m', '100Mi')] }), nodes).node?.name).toBe('big');
  });

  it('breaks ties at random', () => {
    const nodes = ['a', 'b', 'c', 'd'].map((name) => nodeInfo({ name }));
    const seen = new Set<string>();
    const a = algo();
    for (let i = 0; i < 200; i++) seen.add(a.schedule(podInfo('p'), nodes).node!.name);
    expect(seen.size).toBe(4);
  });

  it('evaluates only enough nodes in large clusters, rotating the start', () => {
    const nodes = Array.from({ length: 1000 }, (_, i) => nodeInfo({ name: `n${String(i).padStart(4, '0')}` }));
    const a = algo();
    const r1 = a.schedule(podInfo('p'), nodes);
    expect(r1.evaluated).toBe(420);
    expect(r1.feasible).toBe(420);
    const r2 = a.schedule(podInfo('q'), nodes);
    expect(r2.evaluated).toBe(420);
  });

  it('turns a throwing plugin into an error status instead of crashing', () => {
    const a = new Algorithm({
      filters: [{ name: 'Broken', filter: () => { throw new Error('boom'); } }],
      scores: [],
    });
    const r = a.schedule(podInfo('p'), [nodeInfo({ name: 'a' })]);
    expect(r.node).toBeUndefined();
    expect([...r.diagnosis!.reasons.keys()]).toEqual(['Broken: boom']);
  });

  it('places replicas with required anti-affinity on distinct nodes, counting the ones just placed', () => {
    const nodes = ['a', 'b', 'c'].map((name) => nodeInfo({ name }));
    const a = algo();
    const placed: string[] = [];
    const messages: string[] = [];
    for (let i = 0; i < 6; i++) {
      const pod = newPodInfo(
        makePod(`web-${i}`, {
          affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] } },
        }, { labels: { app: 'web' } }),
      );
      const r = a.schedule(pod, nodes);
      if (r.node) {
        addPodToNode(r.node, pod); // what the cache's assume does
        placed.push(r.node.name);
      } else messages.push(fitErrorMessage(3, r.diagnosis!));
    }
    expect(placed.sort()).toEqual(['a', 'b', 'c']);
    expect(messages).toHaveLength(3);
    expect(messages[0]).toBe(
      "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
  });
});
