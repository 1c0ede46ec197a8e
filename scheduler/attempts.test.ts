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
