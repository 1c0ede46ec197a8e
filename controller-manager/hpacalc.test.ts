import { describe, expect, it } from 'vitest';
import {
  defaultBehavior,
  limitByBehavior,
  MetricError,
  resourceReplicas,
  stabilize,
  type Behavior,
  type CalcOptions,
  type PodInfo,
  type PodMetric,
  type Target,
} from './hpacalc.js';

const NOW = 1_000_000_000;
const opts: CalcOptions = { tolerance: 0.1, cpuInitializationPeriodMs: 300_000, delayOfInitialReadinessMs: 30_000, now: NOW };
/** A pod running for an hour, ready for 50 minutes, requesting 1 CPU. */
const pod = (name: string, extra: Partial<PodInfo> = {}): PodInfo => ({ name, phase: 'Running', deleted: false, ready: true, startTime: NOW - 3_600_000, readyTransition: NOW - 3_000_000, request: 1000, ...extra });
const metric = (value: number): PodMetric => ({ value, timestamp: NOW - 1000, windowMs: 15_000 });
const util = (averageUtilization: number): Target => ({ type: 'Utilization', averageUtilization });

function calc(current: number, target: Target, pods: PodInfo[], values: Record<string, number>, isCpu = true): { replicas: number; utilization: number } {
  const m = new Map(Object.entries(values).map(([k, v]) => [k, metric(v)]));
  const r = resourceReplicas(current, target, pods, m, isCpu, opts);
  return { replicas: r.replicas, utilization: r.utilization };
}

describe('replica calculation (replica_calculator.go)', () => {
  it.each([
    // The documented formula: desired = ceil(current × currentMetric / desiredMetric).
    ['200m against a 100m target doubles', 2, { type: 'AverageValue', averageValue: 100 } as Target, { a: 200, b: 200 }, 4],
    ['50m against a 100m target halves', 2, { type: 'AverageValue', averageValue: 100 } as Target, { a: 50, b: 50 }, 1],
    // Within the 10 % tolerance nothing moves; just past it, it does.
    ['ratio 1.06 is within tolerance', 4, util(50), { a: 530, b: 530, c: 530, d: 530 }, 4],
    ['ratio 0.94 is within tolerance', 4, util(50), { a: 470, b: 470, c: 470, d: 470 }, 4],
    ['ratio 1.12 scales up', 4, util(50), { a: 560, b: 560, c: 560, d: 560 }, 5],
    ['scale down to the ratio', 5, util(50), { a: 100, b: 300, c: 500, d: 250, e: 250 }, 3],
    ['scale up to the ratio', 3, util(30), { a: 300, b: 500, c: 700 }, 5],
  ])('%s', (_what, current, target, values, want) => {
    const pods = Object.keys(values).map((n) => pod(n));
    expect(calc(current, target, pods, values).replicas).toBe(want);
  });

  it('reports utilization as a whole percent of the requests', () => {
    expect(calc(5, util(50), ['a', 'b', 'c', 'd', 'e'].map((n) => pod(n)), { a: 100, b: 300, c: 500, d: 250, e: 250 })).toEqual({ replicas: 3, utilization: 28 });
  });

  it('on a scale-up counts unready pods as using nothing', () => {
    const pods = [pod('a', { ready: false, readyTransition: NOW - 10_000, startTime: NOW - 20_000 }), pod('b'), pod('c')];
    // Ready pods: 1200m of 2000m = 60 % (ratio 2); with the unready pod at 0: 40 % of 3 pods → 4.
    expect(calc(3, util(30), pods, { a: 300, b: 500, c: 700 })).toEqual({ replicas: 4, utilization: 60 });
  });

  it('treats pending pods as unready and leaves deleted and failed pods out', () => {
    const pods = [pod('a'), pod('b', { phase: 'Failed' }), pod('c', { deleted: true }), pod('d', { phase: 'Pending' })];
    // a alone: 90 % of a 50 % target (ratio 1.8); pending d at 0 → 45 % of 2 pods = ratio 0.9 → within tolerance.
    expect(calc(2, util(50), pods, { a: 900, b: 0, c: 0 }).replicas).toBe(2);
    expect(calc(1, util(50), [pod('a'), pod('b', { phase: 'Failed' })], { a: 900, b: 0 }).replicas).toBe(2);
  });

  it('on a scale-up counts pods without metrics as using nothing', () => {
    // 100 % of a 50 % target on two pods; the third at 0: 66 % → ratio 1.32 → ceil(3.96) = 4.
    expect(calc(3, util(50), [pod('a'), pod('b'), pod('c')], { a: 1000, b: 1000 }).replicas).toBe(4);
  });

  it('on a scale-down counts pods without metrics as using their whole request, and never reverses direction', () => {
    // 10 % on a and b; c at 100 %: 40 % of 50 % → ratio 0.8 → ceil(2.4) = 3.
    expect(calc(3, util(50), [pod('a'), pod('b'), pod('c')], { a: 100, b: 100 }).replicas).toBe(3);
    // 40 % (ratio 0.8) with the missing pod at 100 % becomes 70 %: a scale-up now, so nothing moves.
    expect(calc(2, util(50), [pod('a'), pod('b')], { a: 400 }).replicas).toBe(2);
  });

  it('ignores a CPU sample taken before a full window passed since a young pod became ready', () => {
    const young = pod('b', { startTime: NOW - 60_000, readyTransition: NOW - 5_000 });
    // b's sample (at NOW-1s) is younger than its readiness + window (15 s): b counts as unready, at 0:
    // 1500m of 2000m = 75 % → ratio 1.5 → 3.
    expect(calc(2, util(50), [pod('a'), young], { a: 1500, b: 1000 }).replicas).toBe(3);
    // Memory has no initialization period: both samples count, 125 % → ratio 2.5 → 5.
    expect(calc(2, util(50), [pod('a'), young], { a: 1500, b: 1000 }, false).replicas).toBe(5);
  });

  it.each([
    ['no pods', [], {}],
    ['no metrics for ready pods', [pod('a')], {}],
    ['a pod without a request', [pod('a', { request: undefined })], { a: 100 }],
  ])('fails with %s', (_what, pods, values) => {
    expect(() => calc(1, util(50), pods as PodInfo[], values)).toThrow(MetricError);
  });
});

describe('behavior (horizontal.go)', () => {
  const b = defaultBehavior(300);
  const limit = (current: number, desired: number, behavior: Behavior = b, min = 1, max = 100, upEvents = [] as { change: number; at: number }[], downEvents = [] as { change: number; at: number }[]) =>
    limitByBehavior({ current, desired, min, max, behavior, upEvents, downEvents }, NOW);

  it('default scale-up: at most 4 pods or 100 % per 15 s, whichever is more', () => {
    expect(limit(1, 10)).toEqual({ replicas: 5, condition: expect.objectContaining({ reason: 'ScaleUpLimit' }) });
    expect(limit(10, 50).replicas).toBe(20);
    // 3 pods already added in this period: the period started at 2.
    expect(limit(5, 50, b, 1, 100, [{ change: 3, at: NOW - 5_000 }]).replicas).toBe(6);
    expect(limit(5, 50, b, 1, 100, [{ change: 3, at: NOW - 20_000 }]).replicas).toBe(10);
  });

  it('max and min replicas bound the result', () => {
    expect(limit(4, 20, b, 1, 6)).toEqual({ replicas: 6, condition: expect.objectContaining({ reason: 'TooManyReplicas' }) });
    expect(limit(4, 1, b, 2, 10)).toEqual({ replicas: 2, condition: expect.objectContaining({ reason: 'TooFewReplicas' }) });
    expect(limit(4, 3)).toEqual({ replicas: 3, condition: expect.objectContaining({ reason: 'DesiredWithinRange' }) });
  });

  it('the documented scale-down policies: 10 % while above 40 replicas, 4 pods below', () => {
    const docs: Behavior = { ...b, scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 60 }, { type: 'Percent', value: 10, periodSeconds: 60 }] } };
    expect(limit(80, 1, docs).replicas).toBe(72);
    expect(limit(30, 1, docs).replicas).toBe(26);
    // Within the period after removing 8, nothing more may go.
    expect(limit(72, 1, docs, 1, 100, [], [{ change: 8, at: NOW - 30_000 }])).toEqual({ replicas: 72, condition: expect.objectContaining({ reason: 'ScaleDownLimit' }) });
    // selectPolicy Min picks the policy that changes least.
    expect(limit(80, 1, { ...docs, scaleDown: { ...docs.scaleDown, selectPolicy: 'Min' } }).replicas).toBe(76);
    expect(limit(80, 1, { ...docs, scaleDown: { ...docs.scaleDown, selectPolicy: 'Disabled' } }).replicas).toBe(80);
  });

  it('stabilization: on the way down the highest recommendation of the window wins', () => {
    const history = [
      { replicas: 5, at: NOW - 100_000 },
      { replicas: 4, at: NOW - 200_000 },
    ];
    expect(stabilize(5, 2, b, history, NOW).replicas).toBe(5);
    expect(stabilize(5, 2, b, history, NOW).condition.reason).toBe('ScaleDownStabilized');
    // Once the window has passed the low recommendation applies, and the obsolete entries are dropped.
    const later = stabilize(5, 2, b, history, NOW + 301_000);
    expect(later.replicas).toBe(2);
    expect(later.history).toEqual([{ replicas: 2, at: NOW + 301_000 }]);
  });

  it('stabilization: on the way up the lowest recommendation of the up window wins', () => {
    const withUp: Behavior = { ...b, scaleUp: { ...b.scaleUp, stabilizationWindowSeconds: 60 } };
    const history = [{ replicas: 3, at: NOW - 30_000 }];
    expect(stabilize(2, 6, withUp, history, NOW).replicas).toBe(3);
    expect(stabilize(2, 6, b, history, NOW).replicas).toBe(6);
  });
});

describe('without behavior (normalizeDesiredReplicas)', () => {
  it('caps a scale-up at twice the replicas (at least 4) and keeps the highest recent recommendation', async () => {
    const { limitWithoutBehavior, stabilizeWithoutBehavior } = await import('./hpacalc.js');
    expect(limitWithoutBehavior(1, 10, 1, 20)).toEqual({ replicas: 4, condition: expect.objectContaining({ reason: 'ScaleUpLimit' }) });
    expect(limitWithoutBehavior(5, 10, 1, 20).replicas).toBe(10);
    expect(limitWithoutBehavior(5, 30, 1, 8).condition.reason).toBe('TooManyReplicas');
    expect(stabilizeWithoutBehavior(2, 300_000, [{ replicas: 6, at: NOW - 10_000 }], NOW).replicas).toBe(6);
    expect(stabilizeWithoutBehavior(2, 300_000, [{ replicas: 6, at: NOW - 400_000 }], NOW)).toEqual({ replicas: 2, history: [{ replicas: 2, at: NOW }] });
  });
});
