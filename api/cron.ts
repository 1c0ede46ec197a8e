/**
 * CronJob schedules, parsed one way for the apiserver's validation and the CronJob controller (so that
 * what is stored is what the controller can run). Kubernetes parses with robfig/cron's ParseStandard: five
 * fields or a descriptor (`@hourly`, `@daily`, …); `TZ=`/`CRON_TZ=` prefixes are refused in favour of
 * `spec.timeZone`, which must name an IANA zone.
 */
import { CronExpressionParser, type CronExpression } from 'cron-parser';

const DESCRIPTORS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

/** Why `timeZone` cannot be used, or undefined (Kubernetes' validateTimeZone). */
export function timeZoneError(timeZone: string): string | undefined {
  if (timeZone === 'Local' || timeZone.trim() !== timeZone || timeZone === '') return 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return undefined;
  } catch {
    return `unknown time zone ${timeZone}`;
  }
}

/** Why `schedule` is not a standard cron schedule, or undefined. */
export function scheduleError(schedule: string, timeZone?: string): string | undefined {
  const s = schedule.trim();
  if (/^(CRON_)?TZ=/.test(s)) return 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead';
  if (s.startsWith('@')) {
    if (!DESCRIPTORS.has(s)) return `unrecognized descriptor: ${s}`;
  } else {
    const fields = s.split(/\s+/).filter(Boolean).length;
    if (fields !== 5) return `expected exactly 5 fields, found ${fields}: ${s}`;
  }
  if (timeZone !== undefined && timeZoneError(timeZone)) return undefined; // reported on spec.timeZone
  try {
    CronExpressionParser.parse(s, timeZone ? { tz: timeZone } : {}).next();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** A schedule's iterator from `from` (throws with scheduleError's reason on a bad schedule). */
export function parseSchedule(schedule: string, from: number, timeZone?: string): CronExpression {
  const why = scheduleError(schedule, timeZone) ?? (timeZone !== undefined ? timeZoneError(timeZone) : undefined);
  if (why) throw new Error(why);
  return CronExpressionParser.parse(schedule.trim(), { currentDate: new Date(from), ...(timeZone ? { tz: timeZone } : {}) });
}
