import { describe, expect, it } from 'vitest';
import { computeBudget, evictionAllowed } from './disruption.js';
import type { core, policy } from './types.js';

const pod = (name: string, ready: boolean, extra: Partial<core.Pod['metadata']> = {}, phase = 'Running'): core.Pod => ({
  metadata: { name, namespace: 'ns', labels: { app: 'web' }, ...extra },
  status: { phase, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
const pdb = (spec: policy.PodDisruptionBudget['spec']): policy.PodDisruptionBudget => ({ metadata: { name: 'b', namespace: 'ns' }, spec });
const sel = { matchLabels: { app: 'web' } };

describe('computeBudget', () => {
  const pods = [pod('a', true), pod('b', true), pod('c', false), pod('other', true, { labels: { app: 'db' } }), pod('elsewhere', true, { namespace: 'x' })];

  it('counts matching, non-terminating pods of the namespace and the ready ones', () => {
    expect(computeBudget(pdb({ selector: sel, minAvailable: 1 }), pods)).toEqual({ expectedPods: 3, currentHealthy: 2, desiredHealthy: 1, disruptionsAllowed: 1 });
  });

  it('rounds percentages up, of the expected count', () => {
    expect(computeBudget(pdb({ selector: sel, minAvailable: '50%' }), pods).desiredHealthy).toBe(2);
    expect(computeBudget(pdb({ selector: sel, maxUnavailable: '34%' }), pods).desiredHealthy).toBe(1);
    expect(computeBudget(pdb({ selector: sel, maxUnavailable: 1 }), pods)).toMatchObject({ desiredHealthy: 2, disruptionsAllowed: 0 });
  });

  it('ignores terminating and finished pods; a missing selector guards nothing', () => {
    const more = [...pods, pod('d', true, { deletionTimestamp: '2026-01-01T00:00:00Z' }), pod('e', true, {}, 'Succeeded')];
    expect(computeBudget(pdb({ selector: sel, minAvailable: 0 }), more).expectedPods).toBe(3);
    expect(computeBudget(pdb({ minAvailable: 1 }), pods).expectedPods).toBe(0);
    expect(computeBudget(pdb({ selector: {}, minAvailable: 1 }), pods).expectedPods).toBe(4);
  });
});

describe('evictionAllowed', () => {
  const budget = { expectedPods: 3, currentHealthy: 2, desiredHealthy: 2, disruptionsAllowed: 0 };
  it('refuses a ready pod when no disruption is allowed, allows it when one is', () => {
    expect(evictionAllowed(pod('a', true), budget)).toBe(false);
    expect(evictionAllowed(pod('a', true), { ...budget, desiredHealthy: 1, disruptionsAllowed: 1 })).toBe(true);
  });
  it('lets an unready pod go while the application is not disrupted', () => {
    expect(evictionAllowed(pod('c', false), budget)).toBe(true);
    expect(evictionAllowed(pod('c', false), { ...budget, currentHealthy: 1 })).toBe(false);
  });
  it('never holds back pending pods', () => {
    expect(evictionAllowed(pod('p', false, {}, 'Pending'), { ...budget, currentHealthy: 0 })).toBe(true);
  });
});
