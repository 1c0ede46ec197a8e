/**
 * Kubernetes resource quantities ("100m", "1.5", "128Mi", "1G", "1e3").
 * CPU is handled in millicores, everything else in plain units (bytes for memory).
 *
 * The text comes from untrusted objects (pod requests, node capacity, PVC sizes) and is parsed in the
 * apiserver, the scheduler and the controller-manager, so it is read by a single left-to-right scan
 * (no backtracking pattern) after a length check: any input costs at most one pass over its first
 * MAX_QUANTITY_LENGTH characters.
 */
const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/**
 * Longest quantity string accepted. A canonical Kubernetes quantity is an int64 mantissa (at most 19
 * digits) and a suffix; 256 leaves room for hand-written forms ("0.000000001", leading zeros) while
 * keeping the cost of any input constant.
 */
export const MAX_QUANTITY_LENGTH = 256;

const FORMAT = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/** Thrown when a quantity string is malformed or too long; `text` is the (possibly shortened) input. */
export class QuantityError extends Error {
  constructor(
    message: string,
    readonly text: string,
  ) {
    super(message);
    this.name = 'QuantityError';
  }
}

/** The input as it may be echoed in an error: long inputs are cut so errors stay small. */
function shown(s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}…(${s.length} characters)` : s;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** One pass over `s`: the value in base units, or the reason it is not a quantity. */
function scan(raw: string): number | string {
  if (raw.length > MAX_QUANTITY_LENGTH + 64) return `must be no more than ${MAX_QUANTITY_LENGTH} characters`;
  const s = raw.trim();
  if (s.length === 0) return FORMAT;
  if (s.length > MAX_QUANTITY_LENGTH) return `must be no more than ${MAX_QUANTITY_LENGTH} characters`;
  let i = 0;
  if (s[i] === '+' || s[i] === '-') i++;
  const intStart = i;
  while (i < s.length && isDigit(s.charCodeAt(i))) i++;
  let digits = i - intStart;
  if (s[i] === '.') {
    const fracStart = ++i;
    while (i < s.length && isDigit(s.charCodeAt(i))) i++;
    digits += i - fracStart;
  }
  if (digits === 0) return FORMAT;
  const n = Number(s.slice(0, i));
  const suffix = s.slice(i);
  if (suffix === '') return n;
  if (Object.hasOwn(BINARY, suffix)) return n * BINARY[suffix];
  if (Object.hasOwn(DECIMAL, suffix)) return n * DECIMAL[suffix];
  if (suffix[0] === 'e' || suffix[0] === 'E') {
    let j = 1;
    if (suffix[j] === '+' || suffix[j] === '-') j++;
    const start = j;
    while (j < suffix.length && isDigit(suffix.charCodeAt(j))) j++;
    if (j === start || j !== suffix.length) return FORMAT;
    return n * 10 ** Number(suffix.slice(1));
  }
  return FORMAT;
}

/** Parses a quantity to a number of base units; throws a QuantityError naming the text when malformed. */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') return q;
  const text = String(q);
  const v = scan(text);
  if (typeof v === 'string') throw new QuantityError(`${v} (got "${shown(text)}")`, shown(text));
  return v;
}

export function isQuantity(q: unknown): boolean {
  return typeof q === 'number' || (typeof q === 'string' && typeof scan(q) === 'number');
}

/** CPU quantity in millicores (rounded up, as Kubernetes does). */
export function cpuMillis(q: string | number | undefined): number {
  return q === undefined ? 0 : Math.ceil(parseQuantity(q) * 1000 - 1e-9);
}

/** Memory (or any non-cpu) quantity in bytes / units. */
export function quantityValue(q: string | number | undefined): number {
  return q === undefined ? 0 : Math.ceil(parseQuantity(q) - 1e-9);
}

export function formatMillis(m: number): string {
  return m % 1000 === 0 ? String(m / 1000) : `${m}m`;
}

export function formatBytes(b: number): string {
  for (const [s, f] of [['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) if (b % f === 0 && b >= f) return `${b / f}${s}`;
  return String(b);
}
