import { describe, expect, it } from 'vitest';
import { FakeClock } from '../component-base/clock.js';
import { Backoff } from './backoff.js';

describe('Backoff', () => {
  it('lets the first restart go at once, then doubles to the cap, and resets after a quiet period', async () => {
    const clock = new FakeClock();
    const b = new Backoff({ initialMs: 10_000, maxMs: 40_000, resetMs: 600_000 }, clock);
    const died = clock.now();
    expect(b.isInBackOffSince('k', died)).toBe(false);
    expect(b.next('k')).toBe(10_000);
    expect(b.isInBackOffSince('k', clock.now())).toBe(true);
    await clock.advance(10_000);
    expect(b.isInBackOffSince('k', died)).toBe(false);
    expect(b.next('k')).toBe(20_000);
    expect(b.next('k')).toBe(40_000);
    expect(b.next('k')).toBe(40_000);
    expect(b.remaining('k', clock.now())).toBe(40_000);
    await clock.advance(700_000);
    expect(b.next('k')).toBe(10_000);
  });
});
