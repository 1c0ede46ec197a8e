import { runScorePlugin } from '../framework.js';
import { describe, expect, it } from 'vitest';
import type { core } from '../../api/types.js';
import type { NodeInfo, PodInfo } from '../framework.js';
import { makePod, nodeInfo, podInfo } from '../testing.js';
import { newPodInfo } from '../podinfo.js';
import {
  ERR_AFFINITY_RULES,
  ERR_ANTI_AFFINITY_RULES,
  ERR_EXISTING_ANTI_AFFINITY_RULES,
  filterInterPodAffinity,
  preFilterInterPodAffinity,
  InterPodAffinityScore,
} from './interpodaffinity.js';

const HOST = 'kubernetes.io/hostname';
const ZONE = 'topology.kubernetes.io/zone';

function term(matchLabels: Record<string, string>, topologyKey: string, extra: Partial<core.PodAffinityTerm> = {}): core.PodAffinityTerm {
  return { labelSelector: { matchLabels }, topologyKey, ...extra };
}

const labelled = (name: string, labels: Record<string, string>, spec: Partial<core.PodSpec> = {}, ns = 'default') =>
  makePod(name, spec, { labels, namespace: ns });

/** The filter verdict for each node, as the algorithm would run it: preFilter once, then filter per node. */
function verdicts(pod: PodInfo, nodes: NodeInfo[]): (string | undefined)[] {
  const state = preFilterInterPodAffinity(pod, nodes);
  if (!state) return nodes.map(() => undefined);
  return nodes.map((n) => {
    const s = filterInterPodAffinity(pod, n, state);
    return s.code === 'Success' ? undefined : `${s.code}: ${s.reasons.join()}`;
  });
}

describe('InterPodAffinity filter', () => {
  it('skips pods without inter-pod affinity when no pod has required anti-affinity', () => {
    const nodes = [nodeInfo({ name: 'a' }, [labelled('web-1', { app: 'web' })])];
    expect(preFilterInterPodAffinity(podInfo('p'), nodes)).toBeUndefined();
  });

  it('keeps a pod with required anti-affinity away from nodes holding a matching pod', () => {
    const anti: Partial<core.PodSpec> = { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' }, HOST)] } } };
    const nodes = [nodeInfo({ name: 'a' }, [labelled('web-1', { app: 'web' })]), nodeInfo({ name: 'b' }, [labelled('db-1', { app: 'db' })]), nodeInfo({ name: 'c' })];
    const pod = newPodInfo(labelled('web-2', { app: 'web' }, anti));
    expect(verdicts(pod, nodes)).toEqual([`Unschedulable: ${ERR_ANTI_AFFINITY_RULES}`, undefined, undefined]);
  });

  it('counts pods of other namespaces only when the term names them or selects them', () => {
    const nodes = [nodeInfo({ name: 'a' }, [labelled('web-1', { app: 'web' }, {}, 'other')]), nodeInfo({ name: 'b' })];
    const antiWith = (extra: Partial<core.PodAffinityTerm>) =>
      newPodInfo(labelled('p', {}, { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' }, HOST, extra)] } } }));
    expect(verdicts(antiWith({}), nodes)).toEqual([undefined, undefined]);
    expect(verdicts(antiWith({ namespaces: ['other'] }), nodes)[0]).toContain(ERR_ANTI_AFFINITY_RULES);
    expect(verdicts(antiWith({ namespaceSelector: {} }), nodes)[0]).toContain(ERR_ANTI_AFFINITY_RULES);
    const bySelector = (labels: Record<string, string>) =>
      newPodInfo(
        labelled('p', {}, { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' }, HOST, { namespaceSelector: { matchLabels: { team: 'x' } } })] } } }),
        undefined,
        (ns) => (ns === 'other' ? labels : undefined),
      );
    expect(verdicts(bySelector({ team: 'x' }), nodes)[0]).toContain(ERR_ANTI_AFFINITY_RULES);
    expect(verdicts(bySelector({ team: 'y' }), nodes)[0]).toBeUndefined();
  });

  it('puts a pod with required affinity into the topology domain of its target', () => {
    const aff: Partial<core.PodSpec> = {
      affinity: {
        podAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            { labelSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['cache', 'store'] }] }, topologyKey: ZONE },
          ],
        },
      },
    };
    const nodes = [
      nodeInfo({ name: 'a', labels: { [ZONE]: 'z1' } }),
      nodeInfo({ name: 'b', labels: { [ZONE]: 'z1' } }, [labelled('cache-1', { app: 'cache' })]),
      nodeInfo({ name: 'c', labels: { [ZONE]: 'z2' } }),
      nodeInfo({ name: 'd' }),
    ];
    const pod = newPodInfo(labelled('web', { app: 'web' }, aff));
    const no = `UnschedulableAndUnresolvable: ${ERR_AFFINITY_RULES}`;
    expect(verdicts(pod, nodes)).toEqual([undefined, undefined, no, no]);
  });

  it('lets the first pod of a group with affinity to itself go to any node with the topology label', () => {
    const self: Partial<core.PodSpec> = { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'cache' }, ZONE)] } } };
    const nodes = [nodeInfo({ name: 'a', labels: { [ZONE]: 'z1' } }), nodeInfo({ name: 'b', labels: { [ZONE]: 'z2' } }), nodeInfo({ name: 'c' })];
    const no = `UnschedulableAndUnresolvable: ${ERR_AFFINITY_RULES}`;
    expect(verdicts(newPodInfo(labelled('cache-0', { app: 'cache' }, self)), nodes)).toEqual([undefined, undefined, no]);
    // A pod that does not match its own terms waits for a target.
    expect(verdicts(newPodInfo(labelled('web', { app: 'web' }, self)), nodes)).toEqual([no, no, no]);
    // Once one exists, the rest follow it.
    nodes[1] = nodeInfo({ name: 'b', labels: { [ZONE]: 'z2' } }, [labelled('cache-0', { app: 'cache' }, self)]);
    expect(verdicts(newPodInfo(labelled('cache-1', { app: 'cache' }, self)), nodes)).toEqual([no, undefined, no]);
  });

  it('honours existing pods\' required anti-affinity towards the incoming pod (symmetry)', () => {
    const lonely = labelled('lonely', { app: 'lonely' }, { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'noisy' }, ZONE)] } } });
    const nodes = [nodeInfo({ name: 'a', labels: { [ZONE]: 'z1' } }, [lonely]), nodeInfo({ name: 'b', labels: { [ZONE]: 'z1' } }), nodeInfo({ name: 'c', labels: { [ZONE]: 'z2' } })];
    expect(verdicts(newPodInfo(labelled('noisy', { app: 'noisy' })), nodes)).toEqual([
      `Unschedulable: ${ERR_EXISTING_ANTI_AFFINITY_RULES}`,
      `Unschedulable: ${ERR_EXISTING_ANTI_AFFINITY_RULES}`,
      undefined,
    ]);
    expect(verdicts(newPodInfo(labelled('quiet', { app: 'quiet' })), nodes)).toEqual([undefined, undefined, undefined]);
  });
});

describe('InterPodAffinity score', () => {
  it('adds preferred affinity weights and subtracts anti-affinity weights per domain, scaled 0..100', () => {
    const spec: Partial<core.PodSpec> = {
      affinity: {
        podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 80, podAffinityTerm: term({ app: 'cache' }, ZONE) }] },
        podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 20, podAffinityTerm: term({ app: 'web' }, HOST) }] },
      },
    };
    const nodes = [
      nodeInfo({ name: 'a', labels: { [ZONE]: 'z1' } }, [labelled('cache-1', { app: 'cache' }), labelled('web-1', { app: 'web' })]),
      nodeInfo({ name: 'b', labels: { [ZONE]: 'z1' } }),
      nodeInfo({ name: 'c', labels: { [ZONE]: 'z2' } }),
    ];
    const out = new Float64Array(3);
    runScorePlugin(InterPodAffinityScore, newPodInfo(labelled('web-2', { app: 'web' }, spec)), nodes, out, nodes);
    // a: 80 − 20 = 60, b: 80, c: 0.
    expect([...out]).toEqual([75, 100, 0]);
  });

  it('scores existing pods\' preferred terms that match the incoming pod, and zero when nothing applies', () => {
    const fan = labelled('fan', { app: 'fan' }, { affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: term({ app: 'star' }, HOST) }] } } });
    const nodes = [nodeInfo({ name: 'a' }, [fan]), nodeInfo({ name: 'b' })];
    const out = new Float64Array(2);
    runScorePlugin(InterPodAffinityScore, newPodInfo(labelled('star', { app: 'star' })), nodes, out, nodes);
    expect([...out]).toEqual([100, 0]);
    runScorePlugin(InterPodAffinityScore, newPodInfo(labelled('other', { app: 'other' })), nodes, out, nodes);
    expect([...out]).toEqual([0, 0]);
  });
});
