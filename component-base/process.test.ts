import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

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
