import { describe, expect, it } from 'vitest';
import { FakeClock } from '../component-base/clock.js';
import { PodWorkers } from './workers.js';

/** Workers whose syncs wait for the test to release them, recording each sync and failure. */
function setup(fail: (n: number) => boolean = () => false) {
  const clock = new FakeClock();
  const syncs: string[] = [];
  const failures: number[] = [];
  const waiting: (() => void)[] = [];
  let hold = false;
  const workers = new PodWorkers({
    clock,
    sync: async (uid) => {
      syncs.push(uid);
      if (hold) await new Promise<void>((r) => waiting.push(r));
      if (fail(syncs.length)) throw new Error('runtime unavailable');
    },
    onFailure: (_uid, _err, retryInMs) => failures.push(retryInMs),
    observedAt: () => undefined,
    isDesired: () => true,
  });
  return {
    clock,
    syncs,
    failures,
    workers,
    hold: (on: boolean) => (hold = on),
    release: () => {
      for (const r of waiting.splice(0)) r();
    },
  };
}

describe('PodWorkers', () => {
  it('runs one sync per pod at a time; requests meanwhile collapse into one more sync', async () => {
    const t = setup();
    t.hold(true);
    t.workers.enqueue('a');
    t.workers.enqueue('a');
    t.workers.enqueue('a');
    t.workers.enqueue('b');
    expect(t.syncs).toEqual(['a', 'b']);
    t.hold(false);
    t.release();
    await t.workers.idle();
    expect(t.syncs.filter((u) => u === 'a')).toHaveLength(2);
  });

  it('retries a failed sync after 1 s, then 2 s, and stops retrying once it succeeds', async () => {
    const t = setup((n) => n <= 2);
    t.workers.enqueue('a');
    await t.workers.idle();
    expect(t.failures).toEqual([1000]);
    await t.clock.advance(999);
    expect(t.syncs).toHaveLength(1);
    await t.clock.advance(1);
    await t.workers.idle();
    expect(t.syncs).toHaveLength(2);
    expect(t.failures).toEqual([1000, 2000]);
    await t.clock.advance(2000);
    await t.workers.idle();
    expect(t.syncs).toHaveLength(3);
    await t.clock.advance(60_000);
    expect(t.syncs).toHaveLength(3);
  });

  it('keeps only the newest requeue of a pod, and none after stop', async () => {
    const t = setup();
    t.workers.requeueAfter('a', 5000);
    t.workers.requeueAfter('a', 10_000);
    await t.clock.advance(5000);
    expect(t.syncs).toEqual([]);
    await t.clock.advance(5000);
    await t.workers.idle();
    expect(t.syncs).toEqual(['a']);
    t.workers.requeueAfter('a', 1000);
    t.workers.stop();
    await t.clock.advance(1000);
    expect(t.syncs).toEqual(['a']);
    expect(t.clock.pending).toBe(0);
  });
});
