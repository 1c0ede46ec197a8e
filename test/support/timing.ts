/**
 * Time bounds for pathological-input tests on a shared, busy machine.
 *
 * `fastestMs` runs `fn` a few times and returns the fastest run: scheduling noise (other processes on
 * the same two cores) only ever adds time, so the minimum is the parser's own cost, while a
 * super-linear parser is slow on every run and still fails the bound.
 */
export function fastestMs(fn: () => void, runs = 3): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    fn();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

/** Async form of `fastestMs`, for requests to an in-process server. */
export async function fastestMsAsync(fn: () => Promise<void>, runs = 3): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}
