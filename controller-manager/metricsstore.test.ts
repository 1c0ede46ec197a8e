import { describe, expect, it } from 'vitest';
import { decodeSummary, MetricsStore, rate, SummaryError } from './metricsstore.js';

const t = (s: number): string => new Date(1_700_000_000_000 + s * 1000).toISOString();
const stat = (s: number, cpuNs: number, mem: number): object => ({ cpu: { time: t(s), usageCoreNanoSeconds: cpuNs }, memory: { time: t(s), workingSetBytes: mem } });
const summary = (s: number, containers: Record<string, [number, number]>): object => ({
  node: { nodeName: 'n1', ...stat(s, Object.values(containers).reduce((a, [c]) => a + c, 0), 1) },
  pods: [{ podRef: { name: 'p', namespace: 'ns', uid: 'u' }, containers: Object.entries(containers).map(([name, [c, m]]) => ({ name, ...stat(s, c, m) })) }],
});

describe('decodeSummary', () => {
  it('decodes the Summary API shape', () => {
    const s = decodeSummary('n1', summary(0, { a: [5e9, 1024] }));
    expect(s.pods[0].containers[0]).toEqual({ name: 'a', sample: { at: Date.parse(t(0)), cpuCoreNanoSeconds: 5e9, workingSetBytes: 1024 } });
  });

  it.each([
    ['not an object', 'nonsense'],
    ['no node', { pods: [] }],
    ['node cpu not a number', { node: { cpu: { time: t(0), usageCoreNanoSeconds: 'lots' }, memory: { time: t(0), workingSetBytes: 1 } } }],
    ['negative memory', { node: { cpu: { time: t(0), usageCoreNanoSeconds: 1 }, memory: { time: t(0), workingSetBytes: -1 } } }],
    ['bad time', { node: { cpu: { time: 'yesterday', usageCoreNanoSeconds: 1 }, memory: { time: t(0), workingSetBytes: 1 } } }],
  ])('refuses a summary with %s (that node loses its sample)', (_what, body) => {
    expect(() => decodeSummary('n1', body)).toThrow(SummaryError);
  });

  it('leaves out one malformed pod or container and keeps the rest', () => {
    const body = summary(0, { good: [1, 1] }) as { pods: unknown[] };
    body.pods.push(42, { podRef: { name: 'q' } }, { podRef: { name: 'r', namespace: 'ns' }, containers: [{ name: 'x', cpu: {} }, { name: 'y', ...stat(0, 1, 1) }] });
    const s = decodeSummary('n1', body);
    expect(s.pods.map((p) => `${p.name}:${p.containers.map((c) => c.name).join(',')}`)).toEqual(['p:good', 'r:y']);
  });
});

describe('MetricsStore', () => {
  it('derives CPU rates from two samples, as metrics-server does', () => {
    const store = new MetricsStore();
    store.update(decodeSummary('n1', summary(0, { a: [1e9, 100], b: [0, 10] })));
    expect(store.pod('ns', 'p')).toBeUndefined();
    store.update(decodeSummary('n1', summary(10, { a: [1e9 + 2.5e9, 200], b: [1e9, 20] })));
    const u = store.pod('ns', 'p');
    expect(u?.windowMs).toBe(10_000);
    expect(u?.containers).toEqual([
      { name: 'a', cpuNanoCores: 250e6, memoryBytes: 200 },
      { name: 'b', cpuNanoCores: 100e6, memoryBytes: 20 },
    ]);
    expect(store.node('n1')?.cpuNanoCores).toBe(350e6);
    expect(store.pods('other')).toEqual([]);
    store.removeNode('n1');
    expect(store.pod('ns', 'p')).toBeUndefined();
  });

  it('reports no rate across a counter reset or a repeated sample', () => {
    const at = (s: number, c: number) => ({ at: s * 1000, cpuCoreNanoSeconds: c, workingSetBytes: 0 });
    expect(rate(at(0, 10), at(5, 5))).toBeUndefined();
    expect(rate(at(5, 10), at(5, 20))).toBeUndefined();
    const store = new MetricsStore();
    store.update(decodeSummary('n1', summary(0, { a: [0, 1] })));
    store.update(decodeSummary('n1', summary(10, { a: [1e9, 1] })));
    // The same answer again (a kubelet that has not re-read) keeps the last rate instead of losing it.
    store.update(decodeSummary('n1', summary(10, { a: [1e9, 1] })));
    expect(store.pod('ns', 'p')?.containers[0].cpuNanoCores).toBe(100e6);
  });
});
