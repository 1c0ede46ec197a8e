/**
 * Kubernetes resource quantities ("100m", "1.5", "128Mi", "1G", "1e3").
 * CPU is handled in millicores, everything else in plain units (bytes for memory).
 */
const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

const QUANTITY_RE = /^([+-]?[0-9]*\.?[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/;

/** Parses a quantity to a number of base units; throws an Error naming the text when malformed. */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = String(q).trim().match(QUANTITY_RE);
  if (!m) throw new Error(`quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$' (got "${q}")`);
  const n = Number(m[1]);
  const suffix = m[2] ?? '';
  if (suffix in BINARY) return n * BINARY[suffix];
  if (suffix in DECIMAL) return n * DECIMAL[suffix];
  return n * 10 ** Number(suffix.slice(1));
}

export function isQuantity(q: unknown): boolean {
  return (typeof q === 'string' && QUANTITY_RE.test(q.trim())) || typeof q === 'number';
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
