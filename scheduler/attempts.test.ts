import { describe, expect, it } from 'vitest';
import { AttemptStore, type AttemptRecord } from './attempts.js';

const rec = (name: string, result: AttemptRecord['result'] = 'Scheduled'): AttemptRecord => ({
  namespace: 'default',
  name,
  uid: name,
  time: new Date(0).toISOString(),
  result,
  nodes: 1,
  filters: [{ node: 'worker-1', code: 'Success', reasons: [] }],
  scores: [],
  weights: {},
});

describe('AttemptStore', () => {
  it('keeps the last attempt per pod and forgets the oldest pods beyond its capacity', () => {
    const s = new AttemptStore(2);
    s.record(rec('a', 'Unschedulable'));
    s.record(rec('b'));
    s.record(rec('a'));
    s.record(rec('c'));
    expect(s.get('default', 'a')?.result).toBe('Scheduled');
    expect(s.get('default', 'b')).toBeUndefined();
    expect(s.size).toBe(2);
  });

  it('also forgets the oldest pods when their per-node entries pass the bound (a big cluster), keeping the newest', () => {
    const big = (name: string, nodes: number): AttemptRecord => ({
      ...rec(name),
      nodes,
      filters: Array.from({ length: nodes }, (_, i) => ({ node: `n-${i}`, code: 'Success' as const, reasons: [] })),
      scores: Array.from({ length: nodes }, (_, i) => ({ node: `n-${i}`, total: 1, plugins: {} })),
    });
    const s = new AttemptStore(2000, 5_000);
    for (let i = 0; i < 10; i++) s.record(big(`p${i}`, 1000));
    // Each record weighs 2001 entries: two fit under 5,000.
    expect(s.size).toBe(2);
    expect(s.entryCount).toBe(4002);
    expect(s.get('default', 'p9')).toBeDefined();
    expect(s.get('default', 'p7')).toBeUndefined();
    // A single record over the bound is still kept: the newest attempt is always answerable.
    s.record(big('huge', 3000));
    expect(s.size).toBe(1);
    expect(s.get('default', 'huge')).toBeDefined();
    // Re-recording a pod replaces its weight instead of adding to it.
    s.record(rec('huge'));
    expect(s.entryCount).toBe(2);
  });

  it('answers the admin route with 400 for a bad query and 404 for an unknown pod, with what to do', () => {
    const s = new AttemptStore();
    s.record(rec('a'));
    expect(s.route(new URLSearchParams('name=a')).status).toBe(400);
    expect(s.route(new URLSearchParams('namespace=default&name=zz'))).toMatchObject({ status: 404 });
    expect(s.route(new URLSearchParams('namespace=default&name=a'))).toMatchObject({ status: 200, body: { name: 'a' } });
  });

  it('keeps the victims of a preemption on the attempt that then binds the pod, not on a new pod of the same name', () => {
    const s = new AttemptStore();
    s.record({ ...rec('urgent', 'Unschedulable'), nominatedNode: 'worker-1', victims: ['default/low-1'], pdbViolations: 0 });
    s.record({ ...rec('urgent'), node: 'worker-1' });
    expect(s.get('default', 'urgent')).toMatchObject({ result: 'Scheduled', node: 'worker-1', nominatedNode: 'worker-1', victims: ['default/low-1'] });
    s.record({ ...rec('urgent'), uid: 'another' });
    expect(s.get('default', 'urgent')?.victims).toBeUndefined();
  });
});
