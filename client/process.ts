/**
 * The thin-main helper every component uses: ties an AbortController to SIGTERM/SIGINT, runs the
 * component's `start`, and exits non-zero with a one-line reason when it fails.
 */
import type { Logger } from 'pino';
import { DurationError, parseDuration } from './duration.js';

/** Where the crash handlers report: the component's logger once it has one, stderr before. */
let crashLog: ((msg: string, err: unknown) => void) | undefined;

/**
 * Installs process-wide `unhandledRejection`/`uncaughtException` handlers (once) that log and exit with
 * status 1: a process in an unknown state should be restarted by its supervisor, not run on.
 * A later call with a logger replaces where the report goes.
 */
export function installCrashHandlers(log?: Logger): void {
  const first = crashLog === undefined;
  crashLog = log
    ? (msg, err) => log.fatal({ err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err) }, msg)
    : (crashLog ?? ((msg, err) => process.stderr.write(`${msg}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)));
  if (!first) return;
  const crash = (msg: string) => (err: unknown) => {
    crashLog?.(msg, err);
    process.exitCode = 1;
    // Give pino a tick to flush before exiting.
    setTimeout(() => process.exit(1), 100).unref();
  };
  process.on('unhandledRejection', crash('unhandled promise rejection'));
  process.on('uncaughtException', crash('uncaught exception'));
}

export async function runUntilSignal(log: Logger, start: (signal: AbortSignal) => Promise<unknown>): Promise<void> {
  installCrashHandlers(log);
  const ctl = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    log.info({ signal: sig }, 'shutting down');
    if (signals > 1) process.exit(1);
    ctl.abort(new Error(`received ${sig}`));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await start(ctl.signal);
    if (!ctl.signal.aborted) await new Promise((resolve) => ctl.signal.addEventListener('abort', resolve, { once: true }));
  } catch (err) {
    log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'component failed');
    process.exitCode = 1;
  } finally {
    // Give pino a tick to flush, then make sure lingering handles do not keep the process alive.
    setTimeout(() => process.exit(process.exitCode ?? 0), 200).unref();
  }
}

/** Reads an integer flag value; the error names the flag. */
export function intFlag(name: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n)) throw new Error(`${name}: "${v}" is not an integer`);
    return n;
  };
}

/** Parses a duration flag (Go syntax: "500ms", "10s", "1m30s", or plain milliseconds) to milliseconds. */
export function durationFlag(name: string): (v: string) => number {
  return (v: string) => {
    const text = v.trim();
    if (/^\d+$/.test(text)) return Number(text);
    try {
      const ms = Math.round(parseDuration(text));
      if (ms < 0) throw new DurationError('must not be negative');
      return ms;
    } catch (err) {
      throw new Error(`${name}: "${v}" is not a duration (examples: 500ms, 10s, 5m): ${(err as Error).message}`);
    }
  };
}
