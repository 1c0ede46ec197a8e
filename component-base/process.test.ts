import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_HEAP_GROWING_PERCENT, tuneHeapGrowth } from './process.js';

const fixture = fileURLToPath(new URL('./testdata/crash.ts', import.meta.url));
const viteNode = fileURLToPath(new URL('../node_modules/.bin/vite-node', import.meta.url));

describe('runUntilSignal', () => {
  it.each(['rejection', 'exception'])('logs an unhandled %s and exits 1 instead of running on', (mode) => {
    const r = spawnSync(viteNode, [fixture, mode], { encoding: 'utf8', timeout: 15_000, env: { ...process.env, KUBELAB_LOG_FORMAT: 'json' } });
    expect(r.status).toBe(1);
    const fatal = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string; err?: { message?: string } });
    expect(fatal).toContainEqual(
      expect.objectContaining({ level: 60, msg: mode === 'rejection' ? 'unhandled promise rejection' : 'uncaught exception', err: expect.objectContaining({ message: mode === 'rejection' ? 'a floating rejection' : 'a throw from a timer' }) }),
    );
  });
});

describe('tuneHeapGrowth', () => {
  it('sets V8 heap growth to 50 % unless told otherwise, and leaves it to V8 for 0 or a node flag', () => {
    expect(tuneHeapGrowth({}, [])).toBe(DEFAULT_HEAP_GROWING_PERCENT);
    expect(tuneHeapGrowth({ KUBELAB_HEAP_GROWING_PERCENT: '100' }, [])).toBe(100);
    expect(tuneHeapGrowth({ KUBELAB_HEAP_GROWING_PERCENT: '0' }, [])).toBeUndefined();
    expect(tuneHeapGrowth({ KUBELAB_HEAP_GROWING_PERCENT: '100' }, ['--heap-growing-percent=30'])).toBeUndefined();
  });

  it.each(['-5', '1.5', 'lots', '5000'])('refuses KUBELAB_HEAP_GROWING_PERCENT=%s naming the variable and the range', (v) => {
    expect(() => tuneHeapGrowth({ KUBELAB_HEAP_GROWING_PERCENT: v }, [])).toThrow(/KUBELAB_HEAP_GROWING_PERCENT: ".*" is not a whole number from 0 to 1000/);
  });
});
