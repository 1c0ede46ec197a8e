import { describe, expect, it } from 'vitest';
import { generateEvents, type RelistSnapshot } from './pleg.js';

const snap = (entries: [string, string, 'created' | 'running' | 'exited'][]): RelistSnapshot =>
  new Map(entries.map(([id, podUid, state]) => [id, { podUid, state }]));

describe('generateEvents', () => {
  it('reports nothing when nothing changed', () => {
    const s = snap([['a', 'p1', 'running']]);
    expect(generateEvents(s, s)).toEqual([]);
  });

  it('reports starts, deaths and removals per pod', () => {
    const old = snap([
      ['a', 'p1', 'running'],
      ['b', 'p1', 'created'],
      ['c', 'p2', 'exited'],
    ]);
    const cur = snap([
      ['a', 'p1', 'exited'],
      ['b', 'p1', 'running'],
      ['d', 'p3', 'running'],
    ]);
    expect(generateEvents(old, cur)).toEqual([
      { podUid: 'p1', containerId: 'a', type: 'ContainerDied' },
      { podUid: 'p1', containerId: 'b', type: 'ContainerStarted' },
      { podUid: 'p3', containerId: 'd', type: 'ContainerStarted' },
      { podUid: 'p2', containerId: 'c', type: 'ContainerRemoved' },
    ]);
  });

  it('reports a container that was created and died between relists', () => {
    expect(generateEvents(snap([]), snap([['x', 'p', 'exited']]))).toEqual([{ podUid: 'p', containerId: 'x', type: 'ContainerDied' }]);
  });
});
