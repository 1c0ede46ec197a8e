import { describe, expect, it } from 'vitest';
import { Liveness, startAdminServer } from './admin.js';
import { FakeClock } from './clock.js';

describe('Liveness', () => {
  it('fails once a busy loop has not turned for its missed periods, and recovers when it turns', async () => {
    const clock = new FakeClock();
    const live = new Liveness(clock);
    const loop = live.register('sync', { periodMs: 1000, missedPeriods: 3 });
    loop.beat();
    await clock.advance(3000);
    expect(live.check()).toBe(true);
    await clock.advance(1);
    expect(live.check()).toMatch(/loop sync has not turned for 3s/);
    loop.beat();
    expect(live.check()).toBe(true);
  });

  it('counts a loop waiting for work as healthy however long it waits', async () => {
    const clock = new FakeClock();
    const live = new Liveness(clock);
    const loop = live.register('scheduling', { periodMs: 1000 });
    loop.idle();
    await clock.advance(3_600_000);
    expect(live.check()).toBe(true);
  });

  it('keeps failing for a loop that died; a loop stopped on purpose is forgotten', async () => {
    const live = new Liveness(new FakeClock());
    const ctl = new AbortController();
    await expect(live.track('worker', { periodMs: 1000 }, ctl.signal, () => Promise.reject(new TypeError('x.map is not a function')))).rejects.toThrow();
    expect(live.check()).toBe('loop worker died: x.map is not a function');
    const other = new Liveness(new FakeClock());
    ctl.abort();
    await expect(other.track('worker', { periodMs: 1000 }, ctl.signal, () => Promise.reject(new Error('aborted')))).rejects.toThrow();
    expect(other.check()).toBe(true);
  });

  it('makes /healthz answer 503 with the reason', async () => {
    const live = new Liveness(new FakeClock());
    live.register('x', { periodMs: 1000 }).died(new Error('boom'));
    const admin = await startAdminServer({ port: 0, host: '127.0.0.1', healthy: () => live.check() });
    try {
      const res = await fetch(`http://127.0.0.1:${admin.port}/healthz`);
      expect(res.status).toBe(503);
      expect(await res.text()).toBe('loop x died: boom');
    } finally {
      await admin.close();
    }
  });
});
