import { describe, expect, it } from 'vitest';
import { parseTimingConfigMap, timingConfigMap, type PublishedTiming } from './publishedtiming.js';

const t: PublishedTiming = {
  preset: 'lab',
  nodeMonitorGracePeriodMs: 8000,
  nodeMonitorPeriodMs: 1000,
  nodeStartupGracePeriodMs: 15000,
  nodeEvictionRate: 10,
  forceDeleteLostPods: true,
  publishedBy: 'cm-1',
};

describe('published controller-manager timing', () => {
  it('round-trips through the ConfigMap', () => {
    expect(parseTimingConfigMap(timingConfigMap(t))).toEqual(t);
  });

  it('ignores a hand-edited map with a value that is not a number', () => {
    const cm = timingConfigMap(t);
    expect(parseTimingConfigMap({ ...cm, data: { ...cm.data, nodeMonitorGracePeriodMs: '8s' } })).toBeUndefined();
    expect(parseTimingConfigMap(undefined)).toBeUndefined();
  });
});
