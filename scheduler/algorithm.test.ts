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

describe('Algorithm trace (the dashboard scheduler panel)', () => {
  const traced = () => new Algorithm({ filters: DEFAULT_FILTERS, scores: DEFAULT_SCORES, trace: true });

  it('keeps every node of a small cluster: all verdicts, every feasible node scored per plugin', () => {
    const nodes = [nodeInfo({ name: 'a', unschedulable: true }), nodeInfo({ name: 'b', cpu: '4' }), nodeInfo({ name: 'c', cpu: '8' })];
    const a = traced();
    const r = a.schedule(podInfo('p', { containers: [requests('500m')] }), nodes);
    const t = a.lastTrace!;
    expect(t.filters.map((f) => [f.node, f.status === undefined])).toEqual([
      ['a', false],
      ['b', true],
      ['c', true],
    ]);
    expect(t.scores.map((s) => s.node).sort()).toEqual(['b', 'c']);
    expect(Object.keys(t.scores[0]?.plugins ?? {}).length).toBeGreaterThan(1);
    expect([t.evaluated, t.feasible]).toEqual([3, 2]);
    // The chosen node is the best-scored one.
    expect(r.node?.name).toBe([...t.scores].sort((x, y) => y.total - x.total)[0]?.node);
  });

  it('in a big cluster keeps the failing verdicts (bounded) and the best-scored nodes, with the counts', () => {
    const nodes = Array.from({ length: 1000 }, (_, i) => nodeInfo({ name: `n${String(i).padStart(4, '0')}`, cpu: i % 3 === 0 ? '100m' : String(1 + (i % 7)) }));
    const a = traced();
    const r = a.schedule(podInfo('p', { containers: [requests('500m')] }), nodes);
    const t = a.lastTrace!;
    expect(t.evaluated).toBe(r.evaluated);
    expect(t.feasible).toBe(r.feasible);
    expect(t.scores).toHaveLength(20);
    const failing = t.filters.filter((f) => f.status);
    expect(failing.length).toBeGreaterThan(0);
    expect(failing.length).toBeLessThanOrEqual(100);
    expect(failing.every((f) => f.status?.reasons.some((x) => /Insufficient cpu/.test(x)))).toBe(true);
    // The passing verdicts are those of the scored nodes, and those are the best of all feasible nodes.
    expect(t.filters.filter((f) => !f.status).map((f) => f.node).sort()).toEqual(t.scores.map((s) => s.node).sort());
    const worstKept = Math.min(...t.scores.map((s) => s.total));
    expect(r.node && t.scores.some((s) => s.node === r.node?.name)).toBe(true);
    expect(worstKept).toBeGreaterThan(0);
  });
});
