/**
 * Polling until a condition holds: the lab's readiness checks, benchmarks and integration tests.
 *
 * `fn` is called until it returns something other than `undefined`, `null` or `false`; that value
 * is returned. A throw from `fn` counts as "not yet" (the last error is reported on timeout).
 * On timeout the error names `what`, the time waited, the number of attempts and the last error.
 */
export interface WaitOptions {
  /** Give up after this long. Default 30 s. */
  timeoutMs?: number;
  /** Pause between attempts. Default 200 ms. */
  intervalMs?: number;
  /** What is awaited, for the timeout message, e.g. "pod web-0 to be Running". */
  what?: string;
}

export class WaitTimeoutError extends Error {
  constructor(
    message: string,
    readonly lastError?: unknown,
  ) {
    super(message);
    this.name = 'WaitTimeoutError';
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function waitFor<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  opts?: { timeoutMs?: number; intervalMs?: number; what?: string },
): Promise<T> {
  const timeoutMs = opts?.timeoutMs ?? 30_000;
  const intervalMs = opts?.intervalMs ?? 200;
  const what = opts?.what ?? 'condition';
  const started = Date.now();
  const deadline = started + timeoutMs;
  let attempts = 0;
  let lastError: unknown;
  for (;;) {
    attempts++;
    try {
      const value = await fn();
      if (value !== undefined && value !== null && value !== false) return value as T;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    const left = deadline - Date.now();
    if (left <= 0) break;
    await sleep(Math.min(intervalMs, left));
  }
  const detail =
    lastError === undefined
      ? ''
      : `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
  throw new WaitTimeoutError(
    `timed out after ${Date.now() - started} ms waiting for ${what} (${attempts} attempts)${detail}`,
    lastError,
  );
}
