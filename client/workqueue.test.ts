import { describe, expect, it } from 'vitest';
import { FakeClock } from '../component-base/clock.js';
import { WorkQueue } from './workqueue.js';

describe('WorkQueue', () => {
  it('deduplicates keys waiting in the queue', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('a');
    q.add('b');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
  });

  it('never hands one key to two workers; a key re-added while processing comes back after done', async () => {
    const q = new WorkQueue();
    q.add('a');
    const k = await q.get();
    q.add('a');
    expect(q.length).toBe(0);
    let second: string | undefined;
    const waiting = q.get().then((v) => (second = v));
    await Promise.resolve();
    expect(second).toBeUndefined();
    q.done(k ?? '');
    await waiting;
    expect(second).toBe('a');
  });

  it('backs off retries exponentially per key and forgets on success', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, baseDelayMs: 100 });
    expect(q.addRateLimited('x')).toBe(100);
    expect(q.addRateLimited('x')).toBe(200);
    expect(q.addRateLimited('x')).toBe(400);
    await clock.advance(99);
    expect(q.length).toBe(0);
    await clock.advance(1);
    expect(q.length).toBe(1);
    q.forget('x');
    expect(q.addRateLimited('x')).toBe(100);
  });

  it('addAfter keeps the earliest pending time', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addAfter('k', 1000);
    q.addAfter('k', 5000);
    await clock.advance(1000);
    expect(await q.get()).toBe('k');
  });

  it('wakes waiting workers with undefined on shutdown', async () => {
    const q = new WorkQueue();
    const p = q.get();
    q.shutDown();
    expect(await p).toBeUndefined();
  });
});
