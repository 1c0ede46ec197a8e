import { describe, expect, it } from 'vitest';
import { fastestMs } from '../test/support/timing.js';
import { DurationError, parseDuration } from './duration.js';

describe('Go durations', () => {
  it.each([
    ['0', 0],
    ['300ms', 300],
    ['1.5h', 5_400_000],
    ['2h45m', 9_900_000],
    ['-1m', -60_000],
    ['+5s', 5000],
    ['1us', 0.001],
    ['.5s', 500],
    ['1h0m0.5s', 3_600_500],
  ])('reads %j as Go does', (text, ms) => {
    expect(parseDuration(text)).toBeCloseTo(ms, 6);
  });

  it.each([['', /empty/], ['1', /missing unit/], ['1d', /unknown unit "d"/], ['.s', /expected a number/], ['-', /empty/], ['1e3s', /unknown unit "e"/], ['3000000h', /out of range/]])(
    'rejects %j naming the reason',
    (text, why) => {
      expect(() => parseDuration(text)).toThrow(DurationError);
      expect(() => parseDuration(text)).toThrow(why);
    },
  );

  it('answers a million characters within a time bound', () => {
    const text = `${'1'.repeat(1_000_000)}s`;
    expect(fastestMs(() => expect(() => parseDuration(text)).toThrow(/longer than 256/))).toBeLessThan(100);
  });
});
