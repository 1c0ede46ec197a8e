import { describe, expect, it } from 'vitest';
import { generateEvents, PlegRecord, preferNewer } from './pleg.js';
import type { RuntimeContainer } from './runtime/types.js';

const snap = (entries: [string, string, 'created' | 'running' | 'exited'][]): Map<string, { podUid: string; state: 'created' | 'running' | 'exited' }> =>
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

describe('PlegRecord.setPod', () => {
  const rc = (id: string, podUid: string, state: 'created' | 'running' | 'exited'): RuntimeContainer =>
    ({ id, podUid, state, namespace: 'ns', podName: 'p', name: 'c', attempt: 0, createdAt: 0, image: 'i', imageId: 'x' }) as RuntimeContainer;

  it('records what a worker listed so the next relist reports only later changes', () => {
    const relisted = snap([
      ['a', 'p1', 'created'],
      ['old', 'p1', 'exited'],
      ['b', 'p2', 'running'],
    ]);
    const record = new PlegRecord();
    record.reset(new Map(relisted));
    record.setPod('p1', [rc('a', 'p1', 'running'), rc('s', 'p1', 'running'), rc('other', 'p2', 'exited')]);
    const seen = record.snapshot;
    expect([...seen.keys()].sort()).toEqual(['a', 'b', 's']);
    expect(generateEvents(seen, snap([['a', 'p1', 'running'], ['s', 'p1', 'running'], ['b', 'p2', 'running']]))).toEqual([]);
    expect(generateEvents(seen, snap([['a', 'p1', 'exited'], ['s', 'p1', 'running'], ['b', 'p2', 'running']]))).toEqual([
      { podUid: 'p1', containerId: 'a', type: 'ContainerDied' },
    ]);
    expect(relisted.get('a')?.state).toBe('created');
    // A pod whose containers are all gone leaves nothing behind.
    record.setPod('p1', []);
    expect([...record.snapshot.keys()]).toEqual(['b']);
  });
});

describe('preferNewer', () => {
  it('keeps a worker’s newer view of its pod over an older relist', () => {
    const relisted = snap([
      ['a', 'p1', 'created'],
      ['b', 'p2', 'exited'],
    ]);
    const current = snap([
      ['a', 'p1', 'running'],
      ['s', 'p1', 'running'],
      ['b', 'p2', 'running'],
    ]);
    expect(preferNewer(relisted, current, new Set(['p1']))).toEqual(
      snap([
        ['b', 'p2', 'exited'],
        ['a', 'p1', 'running'],
        ['s', 'p1', 'running'],
      ]),
    );
    expect(preferNewer(relisted, current, new Set())).toBe(relisted);
  });
});
