import { describe, expect, it } from 'vitest';
import { BackgroundQueue } from './eventqueue.js';

describe('BackgroundQueue', () => {
  it('runs at most `concurrency` jobs at once and drops beyond `maxQueued`', async () => {
    let dropped = 0;
    const q = new BackgroundQueue({ concurrency: 2, maxQueued: 3, onDrop: () => dropped++ });
    let running = 0;
    let peak = 0;
    const release: (() => void)[] = [];
    const job = () =>
      new Promise<void>((resolve) => {
        running++;
        peak = Math.max(peak, running);
        release.push(() => {
          running--;
          resolve();
        });
      });
    const accepted = Array.from({ length: 7 }, () => q.push(job));
    expect(accepted).toEqual([true, true, true, true, true, false, false]);
    expect(dropped).toBe(2);
    while (release.length > 0 || q.pending > 0) {
      release.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    await q.idle();
    expect(peak).toBe(2);
  });
});
