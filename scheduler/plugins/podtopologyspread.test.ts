import { runScorePlugin } from '../framework.js';
import { describe, expect, it } from 'vitest';
import type { core } from '../../api/types.js';
import type { NodeInfo, PodInfo } from '../framework.js';
import { makePod, nodeInfo } from '../testing.js';
import { newPodInfo } from '../podinfo.js';
import { ERR_SPREAD_CONSTRAINTS, ERR_SPREAD_MISSING_LABEL, filterSpread, preFilterSpread, PodTopologySpreadScore } from './podtopologyspread.js';

const ZONE = 'topology.kubernetes.io/zone';
const HOST = 'kubernetes.io/hostname';

const web = (name: string, spec: Partial<core.PodSpec> = {}, ns = 'default') => makePod(name, spec, { labels: { app: 'web' }, namespace: ns });

function spreadPod(c: Partial<core.TopologySpreadConstraint>, spec: Partial<core.PodSpec> = {}): PodInfo {
  return newPodInfo(
    web('incoming', {
      ...spec,
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: ZONE, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } }, ...c }],
    }),
  );
}

function fits(pod: PodInfo, nodes: NodeInfo[]): (string | undefined)[] {
  const state = preFilterSpread(pod, nodes);
  if (!state) return nodes.map(() => undefined);
  return nodes.map((n) => {
    const s = filterSpread(pod, n, state);
    return s.code === 'Success' ? undefined : s.reasons.join();
  });
}

/** Zones z1: a, b; z2: c; with the given numbers of matching pods on a, b, c. */
function cluster(a: number, b: number, c: number, extra: NodeInfo[] = []): NodeInfo[] {
  const pods = (node: string, n: number) => Array.from({ length: n }, (_, i) => web(`${node}-${i}`));
  return [
    nodeInfo({ name: 'a', labels: { [ZONE]: 'z1' } }, pods('a', a)),
    nodeInfo({ name: 'b', labels: { [ZONE]: 'z1' } }, pods('b', b)),
    nodeInfo({ name: 'c', labels: { [ZONE]: 'z2' } }, pods('c', c)),
    ...extra,
  ];
}

describe('PodTopologySpread filter', () => {
  it('skips pods without DoNotSchedule constraints', () => {
    expect(preFilterSpread(newPodInfo(web('p')), cluster(1, 0, 0))).toBeUndefined();
    expect(preFilterSpread(spreadPod({ whenUnsatisfiable: 'ScheduleAnyway' }), cluster(1, 0, 0))).toBeUndefined();
  });

  it('rejects domains where the skew would exceed maxSkew', () => {
    // z1 holds 1, z2 holds 0: a pod in z1 would make the skew 2.
    expect(fits(spreadPod({}), cluster(1, 0, 0))).toEqual([ERR_SPREAD_CONSTRAINTS, ERR_SPREAD_CONSTRAINTS, undefined]);
    expect(fits(spreadPod({}), cluster(1, 0, 1))).toEqual([undefined, undefined, undefined]);
    expect(fits(spreadPod({ maxSkew: 2 }), cluster(1, 0, 0))).toEqual([undefined, undefined, undefined]);
  });

  it('rejects nodes lacking the topology key and leaves them out of the domains', () => {
    const unlabelled = nodeInfo({ name: 'x' });
    expect(fits(spreadPod({}), cluster(0, 0, 1, [unlabelled]))).toEqual([undefined, undefined, ERR_SPREAD_CONSTRAINTS, ERR_SPREAD_MISSING_LABEL]);
  });

  it('counts only pods of the same namespace selected by the constraint', () => {
    const nodes = [
      nodeInfo({ name: 'a', labels: { [ZONE]: 'z1' } }, [web('other-ns', {}, 'elsewhere'), makePod('db', {}, { labels: { app: 'db' } })]),
      nodeInfo({ name: 'c', labels: { [ZONE]: 'z2' } }),
    ];
    expect(fits(spreadPod({}), nodes)).toEqual([undefined, undefined]);
  });

  it('treats the global minimum as 0 while there are fewer domains than minDomains', () => {
    expect(fits(spreadPod({}), cluster(1, 0, 1))).toEqual([undefined, undefined, undefined]);
    expect(fits(spreadPod({ minDomains: 3 }), cluster(1, 0, 1))).toEqual([ERR_SPREAD_CONSTRAINTS, ERR_SPREAD_CONSTRAINTS, ERR_SPREAD_CONSTRAINTS]);
  });

  it('counts only domains of nodes the pod\'s node selector allows (nodeAffinityPolicy Honor)', () => {
    const nodes = [
      nodeInfo({ name: 'a', labels: { [ZONE]: 'z1', disk: 'ssd' } }, [web('a-0')]),
      nodeInfo({ name: 'c', labels: { [ZONE]: 'z2' } }),
    ];
    const pod = spreadPod({}, { nodeSelector: { disk: 'ssd' } });
    // z2 is not eligible, so z1 is the only domain and its minimum is its own count.
    expect(fits(pod, nodes)[0]).toBeUndefined();
    expect(fits(spreadPod({ nodeAffinityPolicy: 'Ignore' }, { nodeSelector: { disk: 'ssd' } }), nodes)[0]).toBe(ERR_SPREAD_CONSTRAINTS);
  });

  it('spreads over hostnames', () => {
    expect(fits(spreadPod({ topologyKey: HOST }), cluster(1, 0, 1))).toEqual([ERR_SPREAD_CONSTRAINTS, undefined, ERR_SPREAD_CONSTRAINTS]);
  });
});

describe('PodTopologySpread score', () => {
  it('prefers the domains with fewer matching pods and gives nodes without the key 0', () => {
    const nodes = cluster(2, 1, 0, [nodeInfo({ name: 'x' })]);
    const out = new Float64Array(4);
    runScorePlugin(PodTopologySpreadScore, spreadPod({ whenUnsatisfiable: 'ScheduleAnyway' }), nodes, out, nodes);
    // z1 holds 3, z2 holds 0: raw scores round(3·ln 4) = 4 and 0.
    expect([...out]).toEqual([0, 0, 100, 0]);
  });

  it('scores per node for the hostname key', () => {
    const nodes = cluster(2, 1, 0);
    const out = new Float64Array(3);
    runScorePlugin(PodTopologySpreadScore, spreadPod({ whenUnsatisfiable: 'ScheduleAnyway', topologyKey: HOST }), nodes, out, nodes);
    // Raw round(n·ln 5) = 3, 2, 0 → 100·(3 + 0 − s)/3.
    expect([...out]).toEqual([0, 33, 100]);
  });
});
