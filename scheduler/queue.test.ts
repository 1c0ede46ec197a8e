import { describe, expect, it } from 'vitest';
import { FakeClock } from '../component-base/clock.js';
import { SchedulingQueue } from './queue.js';

function popKeys(q: SchedulingQueue): string[] {
  const out: string[] = [];
  for (let e = q.tryPop(); e; e = q.tryPop()) out.push(e.key);
  return out;
}

describe('SchedulingQueue', () => {
  it('pops by priority, then by age', () => {
    const q = new SchedulingQueue({ clock: new FakeClock() });
    q.add('a', 0);
    q.add('b', 10);
    q.add('c', 0);
    q.add('d', 10);
    expect(popKeys(q)).toEqual(['b', 'd', 'a', 'c']);
  });

  it('re-orders a pod whose priority changes while it waits', () => {
    const q = new SchedulingQueue({ clock: new FakeClock() });
    q.add('a', 0);
    q.add('b', 0);
    q.add('b', 5);
    expect(popKeys(q)).toEqual(['b', 'a']);
  });

  it('keeps unschedulable pods until the cluster changes, then respects backoff', async () => {
    const clock = new FakeClock();
    const q = new SchedulingQueue({ clock });
    q.add('a', 0);
    const e = q.tryPop();
    expect(e?.key).toBe('a');
    q.requeueUnschedulable(e!);
    await clock.advance(60_000);
    q.flush();
    expect(q.tryPop()).toBeUndefined();
    q.moveAllToActive();
    expect(q.tryPop()?.key).toBe('a');
  });

  it('moves only the named unschedulable pods back to active', async () => {
    const clock = new FakeClock();
    const q = new SchedulingQueue({ clock, initialBackoffMs: 1000 });
    q.add('a', 0);
    q.add('b', 0);
    q.requeueUnschedulable(q.tryPop()!);
    q.requeueUnschedulable(q.tryPop()!);
    await clock.advance(1000);
    q.moveToActive(['b', 'gone']);
    expect(popKeys(q)).toEqual(['b']);
    expect(q.counts().unschedulable).toBe(1);
  });

  it('sends a pod to backoff when the cluster changed while it was being scheduled', async () => {
    const clock = new FakeClock();
    const q = new SchedulingQueue({ clock, initialBackoffMs: 1000 });
    q.add('a', 0);
    const e = q.tryPop()!;
    q.moveAllToActive(); // e.g. a node was added during the attempt
    q.requeueUnschedulable(e);
    expect(q.counts().backoff).toBe(1);
    expect(q.tryPop()).toBeUndefined();
    await clock.advance(1000);
    q.flush();
    expect(q.tryPop()?.key).toBe('a');
  });

  it('doubles backoff up to the maximum', async () => {
    const clock = new FakeClock();
    const q = new SchedulingQueue({ clock, initialBackoffMs: 1000, maxBackoffMs: 3000 });
    q.add('a', 0);
    const e = q.tryPop()!;
    q.requeueBackoff(e);
    q.requeueBackoff(e);
    expect(q.backoffMs(e)).toBe(2000);
    q.requeueBackoff(e);
    expect(q.backoffMs(e)).toBe(3000);
  });

  it('retries unschedulable pods after the maximum wait even without events', async () => {
    const clock = new FakeClock();
    const q = new SchedulingQueue({ clock, maxUnschedulableMs: 60_000 });
    q.add('a', 0);
    q.requeueUnschedulable(q.tryPop()!);
    await clock.advance(60_000);
    q.flush();
    expect(q.tryPop()?.key).toBe('a');
  });

  it('wakes a waiting pop, forgets deleted pods, and ends pops on close', async () => {
    const q = new SchedulingQueue({ clock: new FakeClock() });
    const p = q.pop();
    q.add('a', 0);
    expect((await p)?.key).toBe('a');
    q.add('b', 0);
    q.delete('b');
    expect(q.tryPop()).toBeUndefined();
    const waiting = q.pop();
    q.close();
    expect(await waiting).toBeUndefined();
  });

  it('sends a pod updated while in flight back to active on failure', () => {
    const q = new SchedulingQueue({ clock: new FakeClock() });
    q.add('a', 0);
    const e = q.tryPop()!;
    q.add('a', 0);
    q.requeueUnschedulable(e);
    expect(q.tryPop()?.key).toBe('a');
  });
});
