import { describe, expect, it } from 'vitest';
import { compileSchedulerConfig, numFeasibleNodesToFind } from './config.js';

describe('compileSchedulerConfig', () => {
  it('fills defaults', () => {
    const c = compileSchedulerConfig({ apiserver: '127.0.0.1:7443' });
    expect(c).toMatchObject({ adminPort: 10259, leaderElect: true, leaseNamespace: 'kube-system', leaseName: 'kube-scheduler', schedulerName: 'default-scheduler' });
  });
  it('names the flag in errors', () => {
    expect(() => compileSchedulerConfig({ apiserver: 'nope' })).toThrow(/--apiserver/);
    expect(() => compileSchedulerConfig({ leaseDurationMs: 5000, renewDeadlineMs: 5000 })).toThrow(/--leader-elect-lease-duration/);
    expect(() => compileSchedulerConfig({ percentageOfNodesToScore: 120 })).toThrow(/--percentage-of-nodes-to-score/);
  });
});

describe('numFeasibleNodesToFind', () => {
  it('follows kube-scheduler', () => {
    expect(numFeasibleNodesToFind(50, 0)).toBe(50);
    expect(numFeasibleNodesToFind(1000, 0)).toBe(420);
    expect(numFeasibleNodesToFind(5000, 0)).toBe(500);
    expect(numFeasibleNodesToFind(200, 0)).toBe(100);
    expect(numFeasibleNodesToFind(1000, 100)).toBe(1000);
    expect(numFeasibleNodesToFind(1000, 10)).toBe(100);
  });
});
