import { describe, expect, it } from 'vitest';
import { parseSchedule, scheduleError, timeZoneError } from './cron.js';

describe('CronJob schedules (robfig ParseStandard rules)', () => {
  it.each(['*/2 * * * *', '0 3 * * 1-5', '@hourly', '@daily', ' 5 4 * * * '])('accepts %j', (s) => {
    expect(scheduleError(s)).toBeUndefined();
  });

  it.each([
    ['* * * * * *', 'expected exactly 5 fields, found 6: * * * * * *'],
    ['x', 'expected exactly 5 fields, found 1: x'],
    ['@every5', 'unrecognized descriptor: @every5'],
    ['TZ=UTC * * * * *', 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'],
  ])('refuses %j: %s', (s, why) => {
    expect(scheduleError(s)).toBe(why);
  });

  it('refuses out-of-range fields with the parser reason', () => {
    expect(scheduleError('61 * * * *')).toMatch(/59/);
  });

  it('checks timeZone against the IANA database', () => {
    expect(timeZoneError('Europe/Berlin')).toBeUndefined();
    expect(timeZoneError('Nope/Zone')).toBe('unknown time zone Nope/Zone');
    expect(timeZoneError('Local')).toMatch(/explicit time zone/);
  });

  it('parses in the time zone and from the given instant', () => {
    const from = Date.parse('2026-01-01T00:30:00Z');
    expect(parseSchedule('0 * * * *', from).next().toISOString()).toBe('2026-01-01T01:00:00.000Z');
    expect(parseSchedule('0 2 * * *', from, 'Asia/Tokyo').next().toISOString()).toBe('2026-01-01T17:00:00.000Z');
    expect(() => parseSchedule('bad', from)).toThrow(/5 fields/);
  });

  it('stays fast on a long hostile schedule', () => {
    const t0 = performance.now();
    expect(scheduleError(`${'1,'.repeat(50_000)}1 * * * *`)).toBeDefined();
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
