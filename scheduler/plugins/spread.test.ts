import { runScorePlugin } from '../framework.js';
import { describe, expect, it } from 'vitest';
import { makePod, nodeInfo, podInfo } from '../testing.js';
import { SelectorSpread } from './spread.js';

const owned = { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'rs-1', controller: true }] };

describe('SelectorSpread', () => {
  it('prefers nodes holding fewer pods of the same controller', () => {
    const a = nodeInfo({ name: 'a' }, [makePod('x1', {}, owned), makePod('x2', {}, owned)]);
    const b = nodeInfo({ name: 'b' }, [makePod('x3', {}, owned)]);
    const c = nodeInfo({ name: 'c' }, [makePod('other')]);
    const out = new Float64Array(3);
    runScorePlugin(SelectorSpread, podInfo('p', {}, owned), [a, b, c], out);
    expect([...out]).toEqual([0, 50, 100]);
  });
});
