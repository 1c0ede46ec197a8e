import { describe, expect, it } from 'vitest';
import type { core, policy } from '../api/types.js';
import { Algorithm } from './algorithm.js';
import type { NodeInfo, PodInfo } from './framework.js';
import { Nominator } from './nominator.js';
import { DEFAULT_FILTERS, DEFAULT_SCORES } from './plugins/index.js';
import { newPodInfo } from './podinfo.js';
import {
  ERR_NO_VICTIMS,
  NOT_ELIGIBLE_NEVER,
  NOT_ELIGIBLE_TERMINATING,
  numCandidates,
  pickCandidate,
  preempt,
  selectVictimsOnNode,
  splitByPDBViolation,
  type Candidate,
} from './preemption.js';
import { makePod, nodeInfo, requests } from './testing.js';

const NOW = Date.parse('2024-05-01T12:00:00Z');

/** A pod requesting `cpu`, with a priority and (optionally) a start time `startedMinAgo` minutes before NOW. */
function pod(name: string, cpu: string, priority: number, opts: { startedMinAgo?: number; labels?: Record<string, string>; spec?: Partial<core.PodSpec> } = {}): core.Pod {
  const p = makePod(name, { containers: [requests(cpu)], priority, ...opts.spec }, opts.labels ? { labels: opts.labels } : {});
  if (opts.startedMinAgo !== undefined) p.status = { startTime: new Date(NOW - opts.startedMinAgo * 60_000).toISOString() };
  return p;
}

const info = (p: core.Pod): PodInfo => newPodInfo(p);
const names = (ps: readonly PodInfo[]): string[] => ps.map((p) => p.name);

function fitsWith(nodes: readonly NodeInfo[], incoming: PodInfo, nominated?: Nominator): (pod: PodInfo, changed: NodeInfo) => ReturnType<Algorithm['filterWhatIf']> {
  const a = new Algorithm({ filters: DEFAULT_FILTERS, scores: DEFAULT_SCORES, nominated });
  a.filterAll(incoming, nodes);
  return (p, changed) => a.filterWhatIf(p, changed, nodes);
}

function pdb(name: string, selector: Record<string, string>, disruptionsAllowed: number): policy.PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, namespace: 'default' },
    spec: { selector: { matchLabels: selector }, minAvailable: 1 },
    status: { disruptionsAllowed, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 },
  };
}

describe('selectVictimsOnNode', () => {
  it('removes every lower-priority pod, then reprieves the most important ones that still leave room', () => {
    // 4 cpu: 1 + 1 + 1 + 1 used by low pods of priorities 5, 4, 3, 3; the incoming pod needs 2.
    const node = nodeInfo({ name: 'n', cpu: '4' }, [pod('p5', '1', 5), pod('p4', '1', 4), pod('p3-old', '1', 3, { startedMinAgo: 30 }), pod('p3-new', '1', 3, { startedMinAgo: 5 })]);
    const incoming = info(pod('hi', '2', 10));
    const r = selectVictimsOnNode(incoming, node, (n) => fitsWith([node], incoming)(incoming, n), [], NOW);
    expect('candidate' in r && names(r.candidate.victims)).toEqual(['p3-old', 'p3-new']);
    // The node itself is untouched.
    expect(node.pods.size).toBe(4);
    expect(node.requestedCpu).toBe(4000);
  });

  it('never takes pods of equal or higher priority', () => {
    const node = nodeInfo({ name: 'n', cpu: '2' }, [pod('same', '1', 10), pod('higher', '1', 20)]);
    const incoming = info(pod('p', '1', 10));
    const r = selectVictimsOnNode(incoming, node, () => undefined, [], NOW);
    expect('status' in r && r.status).toEqual({ code: 'UnschedulableAndUnresolvable', reasons: [ERR_NO_VICTIMS] });
  });

  it('gives up on a node where removing every lower-priority pod is not enough', () => {
    const node = nodeInfo({ name: 'n', cpu: '2' }, [pod('low', '1', 1), pod('high', '1', 100)]);
    const incoming = info(pod('p', '2', 10));
    const r = selectVictimsOnNode(incoming, node, (n) => fitsWith([node], incoming)(incoming, n), [], NOW);
    expect('status' in r && r.status.reasons).toEqual(['Insufficient cpu']);
  });

  it('reprieves PDB-guarded pods first and counts the guarded victims', () => {
    const node = nodeInfo({ name: 'n', cpu: '3' }, [
      pod('guarded', '1', 1, { labels: { app: 'db' } }),
      pod('free-a', '1', 5),
      pod('free-b', '1', 5),
    ]);
    const incoming = info(pod('p', '2', 10));
    const budgets = [pdb('db', { app: 'db' }, 0)];
    const r = selectVictimsOnNode(incoming, node, (n) => fitsWith([node], incoming)(incoming, n), budgets, NOW);
    // Without the budget the lowest-priority pod would go with one other; with it, the two free ones go.
    expect('candidate' in r && names(r.candidate.victims)).toEqual(['free-a', 'free-b']);
    expect('candidate' in r && r.candidate.numPDBViolations).toBe(0);
    const r2 = selectVictimsOnNode(info(pod('p', '3', 10)), node, (n) => fitsWith([node], info(pod('p', '3', 10)))(info(pod('p', '3', 10)), n), budgets, NOW);
    expect('candidate' in r2 && r2.candidate.numPDBViolations).toBe(1);
    expect('candidate' in r2 && names(r2.candidate.victims)).toEqual(['free-a', 'free-b', 'guarded']);
  });

  it('frees a host port held by a lower-priority pod', () => {
    const port = (name: string, priority: number): core.Pod =>
      makePod(name, { priority, containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 80, hostPort: 8080 }] }] });
    const node = nodeInfo({ name: 'n' }, [port('web-low', 1), pod('other', '1', 1)]);
    const incoming = info(port('web-high', 10));
    const r = selectVictimsOnNode(incoming, node, (n) => fitsWith([node], incoming)(incoming, n), [], NOW);
    expect('candidate' in r && names(r.candidate.victims)).toEqual(['web-low']);
  });

  it('removes a lower-priority pod whose required anti-affinity keeps the pod out', () => {
    const anti: Partial<core.PodSpec> = {
      affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] } },
    };
    const node = nodeInfo({ name: 'n' }, [pod('loner', '100m', 1, { spec: anti }), pod('bystander', '100m', 1)]);
    const incoming = info(pod('web', '100m', 10, { labels: { app: 'web' } }));
    const r = selectVictimsOnNode(incoming, node, (n) => fitsWith([node], incoming)(incoming, n), [], NOW);
    expect('candidate' in r && names(r.candidate.victims)).toEqual(['loner']);
  });
});

describe('splitByPDBViolation', () => {
  it('charges each matching budget once per pod and skips pods already disrupted', () => {
    const pods = ['a', 'b', 'c'].map((n) => info(pod(n, '1', 1, { labels: { app: 'db' } })));
    const budget = pdb('db', { app: 'db' }, 1);
    expect(names(splitByPDBViolation(pods, [budget]).violating)).toEqual(['b', 'c']);
    budget.status!.disruptedPods = { b: NOW.toString() };
    expect(names(splitByPDBViolation(pods, [budget]).violating)).toEqual(['c']);
    expect(names(splitByPDBViolation(pods, []).nonViolating)).toEqual(['a', 'b', 'c']);
  });
});

describe('pickCandidate', () => {
  const v = (name: string, priority: number, startedMinAgo = 10): PodInfo => info(pod(name, '1', priority, { startedMinAgo }));
  const c = (node: string, victims: PodInfo[], numPDBViolations = 0): Candidate => ({ node, victims, numPDBViolations });

  it('prefers fewer PDB violations over everything else', () => {
    expect(pickCandidate([c('a', [v('x', 1)], 1), c('b', [v('y', 9), v('z', 9)], 0)], NOW)?.node).toBe('b');
  });
  it('then the lowest highest-victim priority', () => {
    expect(pickCandidate([c('a', [v('x', 5)]), c('b', [v('y', 3), v('z', 3)])], NOW)?.node).toBe('b');
  });
  it('then the smallest priority sum, where every victim weighs 2^31 more (more victims lose)', () => {
    expect(pickCandidate([c('a', [v('x', 3), v('y', -100)]), c('b', [v('z', 3)])], NOW)?.node).toBe('b');
    expect(pickCandidate([c('a', [v('x', 3), v('y', 2)]), c('b', [v('z', 3), v('w', 1)])], NOW)?.node).toBe('b');
  });
  it('then the latest start among the highest-priority victims', () => {
    expect(pickCandidate([c('a', [v('x', 3, 60)]), c('b', [v('y', 3, 5)]), c('c', [v('z', 3, 30)])], NOW)?.node).toBe('b');
  });
  it('returns undefined without candidates', () => {
    expect(pickCandidate([], NOW)).toBeUndefined();
  });
});

describe('numCandidates', () => {
  it('is 10% of the nodes but at least 100, and never more than the nodes', () => {
    expect(numCandidates(3)).toBe(3);
    expect(numCandidates(500)).toBe(100);
    expect(numCandidates(5000)).toBe(500);
  });
});

describe('preempt', () => {
  function run(nodes: NodeInfo[], incoming: PodInfo, extra: { pdbs?: policy.PodDisruptionBudget[]; nominatedNode?: string } = {}) {
    const a = new Algorithm({ filters: DEFAULT_FILTERS, scores: DEFAULT_SCORES });
    return preempt({
      pod: incoming,
      nodes,
      statuses: a.filterAll(incoming, nodes),
      nominatedNode: extra.nominatedNode,
      pdbs: extra.pdbs ?? [],
      fits: (p, changed) => a.filterWhatIf(p, changed, nodes),
      now: NOW,
      random: () => 0,
    });
  }

  it('picks the node needing the fewest victims', () => {
    const nodes = [
      nodeInfo({ name: 'a', cpu: '1' }, [pod('a1', '500m', 1), pod('a2', '500m', 1)]),
      nodeInfo({ name: 'b', cpu: '1' }, [pod('b1', '250m', 1), pod('b2', '250m', 1), pod('b3', '250m', 1), pod('b4', '250m', 1)]),
      nodeInfo({ name: 'c', cpu: '1' }, [pod('c1', '400m', 1), pod('c2', '300m', 1), pod('c3', '300m', 1)]),
    ];
    const r = run(nodes, info(pod('hi', '500m', 100)));
    expect(r.kind).toBe('nominate');
    expect(r.kind === 'nominate' && r.candidate.node).toBe('a');
    expect(r.kind === 'nominate' && r.candidate.victims).toHaveLength(1);
    expect(r.message).toBe('');
  });

  it('explains nodes without lower-priority pods and nodes preemption cannot fix', () => {
    const nodes = [
      nodeInfo({ name: 'cordoned', unschedulable: true }, [pod('x', '1', 1)]),
      nodeInfo({ name: 'b', cpu: '1' }, [pod('b1', '1', 100)]),
      nodeInfo({ name: 'c', cpu: '1' }, [pod('c1', '1', 100)]),
    ];
    const r = run(nodes, info(pod('same', '1', 100)));
    expect(r).toEqual({
      kind: 'none',
      message: 'preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.',
    });
  });

  it('does nothing for a pod with preemptionPolicy Never', () => {
    const nodes = [nodeInfo({ name: 'a', cpu: '1' }, [pod('low', '1', 1)])];
    const r = run(nodes, info(pod('never', '1', 100, { spec: { preemptionPolicy: 'Never' } })));
    expect(r).toEqual({ kind: 'wait', message: `preemption: ${NOT_ELIGIBLE_NEVER}` });
  });

  it('waits instead of preempting again while a victim on the nominated node terminates', () => {
    const terminating = pod('victim', '1', 1);
    terminating.metadata!.deletionTimestamp = new Date(NOW).toISOString();
    const nodes = [nodeInfo({ name: 'a', cpu: '1' }, [terminating]), nodeInfo({ name: 'b', cpu: '1' }, [pod('other', '1', 1)])];
    expect(run(nodes, info(pod('hi', '1', 100)), { nominatedNode: 'a' })).toEqual({ kind: 'wait', message: `preemption: ${NOT_ELIGIBLE_TERMINATING}` });
    expect(run(nodes, info(pod('hi', '1', 100))).kind).toBe('nominate');
  });

  it('prefers a node whose victims no budget protects', () => {
    const nodes = [
      nodeInfo({ name: 'a', cpu: '1' }, [pod('db', '1', 1, { labels: { app: 'db' } })]),
      nodeInfo({ name: 'b', cpu: '1' }, [pod('batch', '1', 5)]),
    ];
    const r = run(nodes, info(pod('hi', '1', 100)), { pdbs: [pdb('db', { app: 'db' }, 0)] });
    expect(r.kind === 'nominate' && r.candidate.node).toBe('b');
    expect(r.kind === 'nominate' && r.candidate.numPDBViolations).toBe(0);
  });
});

describe('nominated pods in the filters', () => {
  it('keep the room of a more important nominated pod from pods of lower or equal priority', () => {
    const nominator = new Nominator();
    const nodes = [nodeInfo({ name: 'a', cpu: '1' })];
    nominator.add(info(pod('preemptor', '1', 100)), 'a');
    const a = new Algorithm({ filters: DEFAULT_FILTERS, scores: DEFAULT_SCORES, nominated: nominator });
    expect(a.schedule(info(pod('low', '500m', 1)), nodes).node).toBeUndefined();
    expect(a.schedule(info(pod('equal', '500m', 100)), nodes).node).toBeUndefined();
    expect(a.schedule(info(pod('higher', '500m', 1000)), nodes).node?.name).toBe('a');
    // The nominated pod itself is not in its own way, and takes its node first.
    const other = nodeInfo({ name: 'b', cpu: '8' });
    expect(a.schedule(info(pod('preemptor', '1', 100)), [other, nodes[0]], nodes[0]).node?.name).toBe('a');
    expect(nodes[0].podCount).toBe(0);
  });
});
