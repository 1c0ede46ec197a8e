import { describe, expect, it } from 'vitest';
import { FakeClock } from '../component-base/clock.js';
import type { core } from '../api/types.js';
import { buildSummary, cpuStatNs, hollowUsageReader, statValue, usageFromDockerStats, USAGE_ANNOTATIONS } from './stats.js';
import type { RuntimeContainer } from './runtime/types.js';

const container = (name: string, extra: Partial<RuntimeContainer> = {}): RuntimeContainer => ({
  id: `id-${name}`, podUid: 'u1', namespace: 'ns', podName: 'p', name, attempt: 0, state: 'running', createdAt: 0, startedAt: 0, image: 'i', imageId: 'i', ...extra,
});
const pod = (ann: Record<string, string>): core.Pod => ({ metadata: { name: 'p', namespace: 'ns', annotations: ann }, spec: { containers: [] } });

describe('Docker and cgroup readings', () => {
  it('computes the working set as usage minus inactive file pages (cgroup v1 and v2 names)', () => {
    expect(usageFromDockerStats({ read: '2024-01-01T00:00:00Z', cpu_stats: { cpu_usage: { total_usage: 5 } }, memory_stats: { usage: 1000, stats: { total_inactive_file: 300 } } }, 0)).toEqual({
      at: Date.parse('2024-01-01T00:00:00Z'), cpuCoreNanoSeconds: 5, workingSetBytes: 700,
    });
    expect(usageFromDockerStats({ cpu_stats: { cpu_usage: { total_usage: 5 } }, memory_stats: { usage: 1000, stats: { inactive_file: 100 } } }, 42)?.workingSetBytes).toBe(900);
    expect(usageFromDockerStats({ cpu_stats: {}, memory_stats: { usage: 1 } }, 0)).toBeUndefined();
  });

  it('reads key-value cgroup stat files', () => {
    expect(statValue('cache 10\ntotal_inactive_file 4096\n', 'total_inactive_file')).toBe(4096);
    expect(statValue('inactive_file x\n', 'inactive_file')).toBeUndefined();
    expect(cpuStatNs('usage_usec 1500\nuser_usec 1000\n')).toBe(1_500_000);
  });
});

describe('hollow usage', () => {
  it('integrates the annotated rate, so a changed annotation changes the rate and never the past', async () => {
    const clock = new FakeClock(0);
    const read = hollowUsageReader(clock);
    const c = container('main');
    let p = pod({ [USAGE_ANNOTATIONS.cpu]: '500m', [USAGE_ANNOTATIONS.memory]: '1Mi' });
    expect((await read(c, p))?.cpuCoreNanoSeconds).toBe(0);
    await clock.advance(10_000);
    expect(await read(c, p)).toEqual({ at: 10_000, cpuCoreNanoSeconds: 5e9, workingSetBytes: 1_048_576 });
    p = pod({ [USAGE_ANNOTATIONS.cpu]: 'main=2;other=1' });
    await clock.advance(1_000);
    expect((await read(c, p))?.cpuCoreNanoSeconds).toBe(5.5e9);
    await clock.advance(1_000);
    expect((await read(c, p))?.cpuCoreNanoSeconds).toBe(7.5e9);
  });

  it('a malformed annotation reads as zero usage', async () => {
    const read = hollowUsageReader(new FakeClock(0));
    expect(await read(container('main'), pod({ [USAGE_ANNOTATIONS.cpu]: 'lots', [USAGE_ANNOTATIONS.memory]: '-5' }))).toMatchObject({ cpuCoreNanoSeconds: 0, workingSetBytes: 0 });
  });

  it('summarises running app containers per pod and node, without sandboxes or unreadable containers', async () => {
    const clock = new FakeClock(1000);
    const cs = [container('POD'), container('a'), container('b'), container('gone'), container('done', { state: 'exited' })];
    const s = await buildSummary({
      nodeName: 'n1',
      clock,
      runtime: { list: () => Promise.resolve(cs) },
      lookupPod: () => undefined,
      read: (c) => (c.name === 'gone' ? Promise.reject(new Error('removed')) : Promise.resolve({ at: 1000, cpuCoreNanoSeconds: c.name === 'a' ? 3 : 4, workingSetBytes: 10 })),
    });
    expect(s.pods).toHaveLength(1);
    expect(s.pods[0].containers.map((c) => c.name)).toEqual(['a', 'b']);
    expect(s.pods[0].cpu.usageCoreNanoSeconds).toBe(7);
    expect(s.node.memory.workingSetBytes).toBe(20);
  });
});
