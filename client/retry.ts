/** The one retry policy for transient API failures (apiserver unreachable, timeouts, 429/503). */
import { ApiError, isConflict } from '../api/errors.js';
import { realClock, type Clock } from '../component-base/clock.js';

export function isTransient(err: unknown): boolean {
  return err instanceof ApiError && (err.reason === 'ServiceUnavailable' || err.reason === 'Timeout' || err.reason === 'TooManyRequests');
}

export async function withRetry<T>(
  fn: () => Promise<T>,
  opts: { retries?: number; baseMs?: number; factor?: number; clock?: Clock; retryIf?: (e: unknown) => boolean } = {},
): Promise<T> {
  const retries = opts.retries ?? 3;
  const base = opts.baseMs ?? 200;
  const clock = opts.clock ?? realClock;
  const retryIf = opts.retryIf ?? isTransient;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= retries || !retryIf(err)) throw err;
      const delay = Math.min(base * (opts.factor ?? 2) ** attempt, 5000);
      await clock.sleep(delay * (1 + Math.random() * 0.5));
    }
  }
}

/** Read-modify-write with retry on Conflict, as client-go's RetryOnConflict (short, jittered, constant delay). */
export function retryOnConflict<T>(fn: () => Promise<T>, retries = 10): Promise<T> {
  return withRetry(fn, { retries, baseMs: 10, factor: 1, retryIf: isConflict });
}
