import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TIMING, TIMING_PRESETS, healTimers, leaseRenewIntervalMs, timingTableMarkdown } from './timing.js';

const DOC = new URL('../docs/timing.md', import.meta.url);
const BEGIN = '<!-- timing table: generated from component-base/timing.ts (KUBELAB_UPDATE_DOCS=1 npx vitest run component-base/timing.test.ts) -->';
const END = '<!-- end of timing table -->';

describe('timing presets (component-base/timing.ts)', () => {
  it('docs/timing.md shows the table as component-base/timing.ts has it', () => {
    const doc = readFileSync(DOC, 'utf8');
    const from = doc.indexOf(BEGIN);
    const to = doc.indexOf(END);
    expect(from, 'docs/timing.md lacks the generated-table markers').toBeGreaterThanOrEqual(0);
    expect(to).toBeGreaterThan(from);
    const want = `${BEGIN}\n${timingTableMarkdown()}\n${END}`;
    const have = doc.slice(from, to + END.length);
    if (have !== want && process.env.KUBELAB_UPDATE_DOCS === '1') writeFileSync(DOC, doc.slice(0, from) + want + doc.slice(to + END.length));
    else expect(have).toBe(want);
  });

  it('keeps Kubernetes defaults in the default preset', () => {
    const d = TIMING.default;
    expect(d.kubelet.nodeLeaseDurationMs).toBe(40_000);
    expect(leaseRenewIntervalMs(d.kubelet.nodeLeaseDurationMs)).toBe(10_000);
    expect(d.controllerManager.nodeMonitorGracePeriodMs).toBe(40_000);
    expect(d.controllerManager.nodeMonitorPeriodMs).toBe(5_000);
    expect(d.apiserver.defaultTolerationSeconds).toBe(300);
    expect(d.controllerManager.forceDeleteLostPods).toBe(false);
    expect(d.leaderElection).toEqual({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });
  });

  it('every preset lets a healthy kubelet renew several times within the grace period', () => {
    for (const p of TIMING_PRESETS) {
      const t = TIMING[p];
      const renew = leaseRenewIntervalMs(t.kubelet.nodeLeaseDurationMs);
      expect(t.controllerManager.nodeMonitorGracePeriodMs / renew, p).toBeGreaterThanOrEqual(4);
      expect(t.controllerManager.nodeMonitorPeriodMs, p).toBeLessThan(t.controllerManager.nodeMonitorGracePeriodMs);
      expect(t.leaderElection.renewDeadlineMs, p).toBeLessThan(t.leaderElection.leaseDurationMs);
      expect(t.leaderElection.retryPeriodMs, p).toBeLessThan(t.leaderElection.renewDeadlineMs);
      const h = healTimers(t);
      expect(h.fromS).toBeLessThan(h.upToS);
    }
  });
});
