/**
 * The thin main every component shares: flags (declared as data) → options → config, a root logger, an
 * AbortController tied to SIGTERM/SIGINT, the component's `start`, and a non-zero exit with a one-line
 * reason when it fails.
 */
import { setFlagsFromString } from 'node:v8';
import { Command } from 'commander';
import type { Logger } from 'pino';
import { parseFlags, type Flag, type FlagValues } from './flags.js';
import { createLogger } from './log.js';

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

/** How far V8 lets a component's heap grow past what its last full GC kept, in percent (KUBELAB_HEAP_GROWING_PERCENT). */
export const DEFAULT_HEAP_GROWING_PERCENT = 50;

/**
 * Sets V8's old-generation growing factor for this process: after each full GC the heap may grow to
 * (1 + percent/100) × what survived, as Go's GOGC does for the Kubernetes components (GOGC=100: 2×). V8's own
 * choice on a machine with this much memory goes up to 4× while a burst allocates fast: the scale bench's
 * control plane peaked at 2.4 GiB with it, 1.95 GiB at 50 %, with no throughput lost that it could measure
 * (docs/benchmarks.md).
 * KUBELAB_HEAP_GROWING_PERCENT=0 leaves V8's default; a `--heap-growing-percent` on node's command line wins.
 * V8 reads the flag at every limit it computes, so setting it once the process runs takes effect.
 * Returns the percent set (undefined: left to V8); throws naming the variable for a bad value.
 */
export function tuneHeapGrowth(env: NodeJS.ProcessEnv = process.env, execArgv: readonly string[] = process.execArgv): number | undefined {
  if (execArgv.some((a) => a.startsWith('--heap-growing-percent') || a.startsWith('--heap_growing_percent'))) return undefined;
  const raw = env.KUBELAB_HEAP_GROWING_PERCENT?.trim();
  const percent = raw === undefined || raw === '' ? DEFAULT_HEAP_GROWING_PERCENT : Number(raw);
  if (!Number.isInteger(percent) || percent < 0 || percent > 1000) {
    throw new Error(`KUBELAB_HEAP_GROWING_PERCENT: "${raw}" is not a whole number from 0 to 1000 (0: V8's default growth; unset: ${DEFAULT_HEAP_GROWING_PERCENT})`);
  }
  if (percent === 0) return undefined;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  return percent;
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

/** A component as its process entry sees it: its flags, how their options become its config, how it starts. */
export interface ComponentSpec<S extends Record<string, Flag<unknown>>, C> {
  /** The command's name, also the root logger's `component`. */
  readonly name: string;
  readonly description: string;
  readonly flags: S;
  /** Options → config with every default filled; throws an error naming the flag for a bad value. */
  compile(options: FlagValues<S>): C;
  /** Starts the component; resolves when it runs (or when its work ended), rejects when it failed. */
  start(config: C, signal: AbortSignal, logger: Logger): Promise<unknown>;
}

/** The config `argv` (and the environment, for flags that read one) give a component; throws naming the flag. */
export function parseComponentConfig<S extends Record<string, Flag<unknown>>, C>(spec: ComponentSpec<S, C>, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): C {
  return spec.compile(parseFlags(new Command(spec.name).description(spec.description), spec.flags, argv, env));
}

/** A component's `main(argv)`: parse its config, then run it until SIGTERM/SIGINT. */
export async function runComponent<S extends Record<string, Flag<unknown>>, C>(spec: ComponentSpec<S, C>, argv: readonly string[]): Promise<void> {
  const config = parseComponentConfig(spec, argv);
  const logger = createLogger(spec.name);
  await runUntilSignal(logger, (signal) => spec.start(config, signal, logger));
}
