import { describe, expect, it } from 'vitest';
import { defaultNormalizeScore, runScorePlugin, type ScorePlugin } from './framework.js';
import { nodeInfo, podInfo } from './testing.js';

const normalize = (reverse: boolean, raw: number[]): number[] => {
  const out = Float64Array.from(raw);
  defaultNormalizeScore(reverse)(podInfo('p'), [], out);
  return [...out];
};

describe('defaultNormalizeScore (kube-scheduler helper.DefaultNormalizeScore)', () => {
  it('scales so the highest raw score is 100', () => {
    expect(normalize(false, [0, 1, 4])).toEqual([0, 25, 100]);
    expect(normalize(false, [0, 0])).toEqual([0, 0]);
  });

  it('with reverse, the lowest raw score is 100', () => {
    expect(normalize(true, [0, 1, 4])).toEqual([100, 75, 0]);
    expect(normalize(true, [0, 0])).toEqual([100, 100]);
  });
});

describe('runScorePlugin', () => {
  it('normalises after every node is scored', () => {
    const seen: number[][] = [];
    const plugin: ScorePlugin = {
      name: 'Count',
      weight: 1,
      score: (_pod, nodes, out) => nodes.forEach((n, i) => (out[i] = n.name.length)),
      normalizeScore: (_pod, _nodes, out) => {
        seen.push([...out]);
        defaultNormalizeScore(false)(_pod, _nodes, out);
      },
    };
    const out = new Float64Array(2);
    runScorePlugin(plugin, podInfo('p'), [nodeInfo({ name: 'ab' }), nodeInfo({ name: 'abcd' })], out);
    expect(seen).toEqual([[2, 4]]);
    expect([...out]).toEqual([50, 100]);
  });
});
