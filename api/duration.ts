/**
 * Go's `time.ParseDuration` ("300ms", "1.5h", "2h45m", "-1m", "0"), in one left-to-right pass, for
 * duration text that arrives from clients (the `timeout` query parameter) and from flags.
 */

/** Thrown when a duration string is malformed or out of range; the message names the text. */
export class DurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DurationError';
  }
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
/** Go's durations are int64 nanoseconds: about 292 years. */
const MAX_MS = 9_223_372_036_854.775;
const MAX_LENGTH = 256;

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** Parses a Go duration to milliseconds (fractions of a millisecond are kept). */
export function parseDuration(text: string): number {
  const bad = (why: string): never => {
    throw new DurationError(`time: invalid duration "${text.length > 64 ? `${text.slice(0, 64)}…` : text}": ${why}`);
  };
  if (text.length > MAX_LENGTH) bad(`longer than ${MAX_LENGTH} characters`);
  let i = 0;
  let sign = 1;
  if (text[i] === '-' || text[i] === '+') sign = text[i++] === '-' ? -1 : 1;
  if (text.slice(i) === '0') return 0;
  if (i === text.length) bad('empty');
  let total = 0;
  while (i < text.length) {
    const start = i;
    while (isDigit(text[i])) i++;
    let end = i;
    if (text[i] === '.') {
      i++;
      while (isDigit(text[i])) i++;
      end = i;
    }
    const number = text.slice(start, end);
    if (number === '' || number === '.') bad('expected a number');
    const unitStart = i;
    while (i < text.length && text[i] !== '.' && !isDigit(text[i])) i++;
    const unit = text.slice(unitStart, i);
    if (unit === '') bad('missing unit');
    if (!Object.hasOwn(UNIT_MS, unit)) bad(`unknown unit "${unit}"`);
    total += Number(number) * UNIT_MS[unit];
    if (total > MAX_MS) bad('out of range');
  }
  return sign * total;
}
