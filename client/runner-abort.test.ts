import { describe, expect, it } from 'vitest';
import { nullLogger } from '../component-base/log.js';
import { ControllerRunner } from './runner.js';

describe('ControllerRunner and an already aborted signal', () => {
  // A leader that loses its lease while it is still starting hands its controllers an aborted signal;
  // they must end at once, or its term never ends and it never campaigns again.
  it('run() returns at once and reconciles nothing', async () => {
    const seen: string[] = [];
    const runner = new ControllerRunner({ name: 'probe', reconcile: async (key) => void seen.push(key) }, { workers: 2, logger: nullLogger() });
    runner.enqueue('a');
    const ctl = new AbortController();
    ctl.abort();
    await runner.run(ctl.signal);
    runner.enqueue('b');
    expect(seen.filter((k) => k === 'b')).toEqual([]);
  });
});
