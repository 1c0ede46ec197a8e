/**
 * Configuration as data: a component declares each of its flags once, keyed by the option it sets
 * (`FlagsFor<XOptions>`); commander's options and the typed options object are both derived from that
 * declaration, so no flag is named twice. One spelling per kind of value: booleans are
 * `--name[=true|false]` as Kubernetes' (Go's ParseBool words), durations Go-style ("500ms", "1m30s").
 */
import { Command, Option } from 'commander';
import { DurationError, parseDuration } from '../api/duration.js';

/** Thrown for a flag whose value does not parse; the message names the flag, the value and the reason. */
export class FlagError extends Error {
  constructor(
    readonly flag: string,
    readonly value: string,
    readonly reason: string,
  ) {
    super(`${flag}: "${value}" ${reason}`);
    this.name = 'FlagError';
  }
}

/** Thrown by a flag's `parse` with the reason only; the flag's name and value are added by the caller. */
class InvalidValue extends Error {}

/** One flag: commander's spelling (`--admin-port <port>`), its help, and how its text becomes a value. */
export interface Flag<T> {
  readonly spec: string;
  readonly help: string;
  /** An environment variable read when the flag is absent (parsed the same way). */
  readonly env?: string;
  /** Text → value; `previous` is the value so far when the flag repeats. Throws with the reason. */
  parse(text: string, previous: T | undefined): T;
}

/** A component's flag declaration: one flag per option it sets, of that option's type. */
export type FlagsFor<O> = { readonly [K in keyof O]?: Flag<NonNullable<O[K]>> };

type AnyFlags = Record<string, Flag<unknown>>;

/** The options a declaration yields: what the command line (or the environment) set, nothing else. */
export type FlagValues<S extends AnyFlags> = { [K in keyof S]?: S[K] extends Flag<infer T> ? T : never };

interface FlagExtras {
  env?: string;
}

function make<T>(spec: string, help: string, parse: (text: string, previous: T | undefined) => T, o: FlagExtras = {}): Flag<T> {
  return { spec, help, parse, ...(o.env ? { env: o.env } : {}) };
}

/** `--name <arg>`: the text as it is. */
export function stringFlag(spec: string, help: string, o?: FlagExtras): Flag<string> {
  return make(spec, help, (v) => v, o);
}

/** `--name <n>`: an integer. */
export function intFlag(spec: string, help: string, o?: FlagExtras): Flag<number> {
  return make(
    spec,
    help,
    (v) => {
      const n = Number(v);
      if (v.trim() === '' || !Number.isInteger(n)) throw new InvalidValue('is not an integer');
      return n;
    },
    o,
  );
}

/** `--name <x>`: a finite number. */
export function floatFlag(spec: string, help: string, o?: FlagExtras): Flag<number> {
  return make(
    spec,
    help,
    (v) => {
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidValue('is not a number');
      return n;
    },
    o,
  );
}

/** Parses a duration (Go syntax: "500ms", "10s", "1m30s", or plain milliseconds) to milliseconds. */
export function parseDurationFlag(v: string): number {
  const text = v.trim();
  if (/^\d+$/.test(text)) return Number(text);
  try {
    const ms = Math.round(parseDuration(text));
    if (ms < 0) throw new DurationError('must not be negative');
    return ms;
  } catch (err) {
    throw new InvalidValue(`is not a duration (examples: 500ms, 10s, 5m): ${(err as Error).message}`);
  }
}

/** `--name <duration>`: milliseconds. */
export function durationFlag(spec: string, help: string, o?: FlagExtras): Flag<number> {
  return make(spec, help, parseDurationFlag, o);
}

const TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

/** `--name`, `--name=true`, `--name=false`: Kubernetes' boolean flags (Go's strconv.ParseBool words). */
export function boolFlag(name: string, help: string, o?: FlagExtras): Flag<boolean> {
  return make(
    `${name} [bool]`,
    help,
    (v) => {
      if (TRUE.has(v)) return true;
      if (FALSE.has(v)) return false;
      throw new InvalidValue('is not a boolean (true or false)');
    },
    o,
  );
}

/** `--name <arg>`: one of a fixed set of words. */
export function oneOfFlag<T extends string>(spec: string, values: readonly T[], help: string, o?: FlagExtras): Flag<T> {
  return make(
    spec,
    `${help} (${values.join(' | ')})`,
    (v) => {
      if (!(values as readonly string[]).includes(v)) throw new InvalidValue(`is not one of ${values.join(', ')}`);
      return v as T;
    },
    o,
  );
}

/** `--name <arg...>`: one or more values, collected over repeats. */
export function listFlag(spec: string, help: string, o?: FlagExtras): Flag<string[]> {
  return make(spec, help, (v, previous) => [...(previous ?? []), v], o);
}

/** The flag's name (`--admin-port`) from its spec. */
export function flagName(f: Flag<unknown>): string {
  return f.spec.split(/[ =]/)[0] ?? f.spec;
}

function parseNamed<T>(f: Flag<T>, label: string, text: string, previous: T | undefined): T {
  try {
    return f.parse(text, previous);
  } catch (err) {
    if (err instanceof InvalidValue) throw new FlagError(label, text, err.message);
    throw err;
  }
}

/** Parses one value of a flag outside a command line (an annotation holding a duration); the error names it. */
export function parseFlagValue<T>(f: Flag<T>, text: string): T {
  return parseNamed(f, flagName(f), text, undefined);
}

/** Adds every declared flag to `cmd`; returns, per option key, commander's attribute for it. */
export function addFlags(cmd: Command, flags: AnyFlags): Map<string, string> {
  const attrs = new Map<string, string>();
  for (const [key, f] of Object.entries(flags)) {
    const name = flagName(f);
    const opt = new Option(f.spec, f.env ? `${f.help} (env ${f.env})` : f.help).argParser((text: string, previous: unknown) =>
      parseNamed(f, name, text, previous),
    );
    cmd.addOption(opt);
    attrs.set(key, opt.attributeName());
  }
  return attrs;
}

/**
 * Parses `argv` against a declaration: the options set on the command line, else by their environment
 * variable. Throws `FlagError` for a bad value, commander's error for an unknown flag or a missing value.
 */
export function parseFlags<S extends AnyFlags>(cmd: Command, flags: S, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): FlagValues<S> {
  const attrs = addFlags(cmd.exitOverride(), flags);
  cmd.parse([...argv], { from: 'user' });
  const out: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(flags)) {
    const given: unknown = cmd.getOptionValue(attrs.get(key) ?? key);
    const fromEnv = given === undefined && f.env ? env[f.env] : undefined;
    if (given !== undefined) out[key] = given;
    else if (fromEnv !== undefined && f.env) out[key] = parseNamed(f, `${flagName(f)} (env ${f.env})`, fromEnv, undefined);
  }
  return out as FlagValues<S>;
}
