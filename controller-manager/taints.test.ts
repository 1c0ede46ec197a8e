import { describe, expect, it } from 'vitest';
import { evictionTime, toleratesTaint, untoleratedTaints, TAINT_UNREACHABLE } from './taints.js';

const t0 = Date.parse('2024-01-01T00:00:00Z');
const unreachable = { key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: '2024-01-01T00:00:00Z' };

describe('taints', () => {
  it('matches tolerations as Kubernetes', () => {
    expect(toleratesTaint({ operator: 'Exists' }, unreachable)).toBe(true);
    expect(toleratesTaint({ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoSchedule' }, unreachable)).toBe(false);
    expect(toleratesTaint({ key: 'a', value: 'b' }, { key: 'a', value: 'b', effect: 'NoSchedule' })).toBe(true);
    expect(untoleratedTaints([unreachable, { key: 'x', effect: 'NoSchedule' }], [], ['NoExecute'])).toHaveLength(1);
  });
  it('evicts when the toleration runs out, counted from timeAdded', () => {
    const tol = [{ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }];
    expect(evictionTime([unreachable], tol, t0 + 5000)).toBe(t0 + 300_000);
    expect(evictionTime([unreachable], [], t0 + 5000)).toBe(t0 + 5000);
    expect(evictionTime([unreachable], [{ operator: 'Exists' }], t0)).toBe(Infinity);
    expect(evictionTime([{ key: 'x', effect: 'NoSchedule' }], [], t0)).toBe(Infinity);
  });
});
