import { describe, expect, it } from 'vitest';
import { nullLogger } from '../component-base/log.js';
import { ControllerRunner } from './runner.js';

describe('ControllerRunner', () => {
  it('returns at once when its signal aborted before run() (leadership lost during startup work)', async () => {
    let reconciles = 0;
    const runner = new ControllerRunner({ name: 't', reconcile: () => { reconciles++; return Promise.resolve({ requeueAfter: 0 }); } }, { logger: nullLogger(), workers: 1 });
    runner.enqueue('k');
    const ctl = new AbortController();
    ctl.abort();
    await runner.run(ctl.signal);
    expect(reconciles).toBeLessThanOrEqual(1);
  });
});
