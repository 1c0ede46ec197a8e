import { describe, expect, it } from 'vitest';
import { MAX_TIMER_MS, realClock, timerMs } from './clock.js';

describe('timerMs', () => {
  it('keeps delays Node honours and clamps the ones it would fire at once', () => {
    expect(timerMs(1500)).toBe(1500);
    expect(timerMs(2 ** 31 * 1000)).toBe(MAX_TIMER_MS);
    expect(timerMs(Infinity)).toBe(MAX_TIMER_MS);
    expect(timerMs(-5)).toBe(0);
    expect(timerMs(Number.NaN)).toBe(0);
  });

  it('makes a real-clock sleep of 2^31 s wait instead of firing after 1 ms', async () => {
    const ctl = new AbortController();
    let woke = false;
    const sleeping = realClock.sleep(2 ** 31 * 1000, ctl.signal).then(() => (woke = true), () => undefined);
    // A 1 ms timer has long fired after 50 ms of real time.
    await new Promise((r) => setTimeout(r, 50));
    expect(woke).toBe(false);
    ctl.abort();
    await sleeping;
  });
});
