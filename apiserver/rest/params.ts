/**
 * Query parameters of the REST facade, read as kube-apiserver reads them. Every parameter goes through
 * one of these helpers, so a malformed value is a 400 naming the parameter, never a silent default.
 *
 * Booleans follow apimachinery's query conversion (`Convert_Slice_string_To_bool`): absent → unset,
 * `0` or `false` in any case → false, anything else (`true`, `True`, `1`, `t`, even an empty value) →
 * true. This is a superset of Go's strconv.ParseBool, so what any client sends (Python's `watch=True`)
 * means what it means on Kubernetes. Integers follow strconv.ParseInt (int64, decimal, optional sign).
 */
import type { IncomingMessage } from 'node:http';
import { ApiError, badRequest, invalid } from '../../api/errors.js';
import { DurationError, parseDuration } from '../../api/duration.js';
import { parseFieldSelector, parseLabelSelector, SelectorError } from '../../api/selectors.js';

/** The request's URL; one that cannot be parsed (`//[`) is a 400, not a 500. */
export function requestUrl(req: IncomingMessage): URL {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    throw badRequest('the request URL could not be parsed');
  }
}

/** A query value as it may be echoed in an error. */
const shown = (v: string): string => (v.length > 64 ? `${v.slice(0, 64)}…` : v);

/** A boolean query parameter; undefined when absent. */
export function boolParam(q: URLSearchParams, name: string): boolean | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  return !(v === '0' || v.toLowerCase() === 'false');
}

const INT = /^[+-]?[0-9]+$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * An int64 query parameter; undefined when absent or empty. `min` is the smallest value the
 * parameter allows (tailLines ≥ 0, sinceSeconds ≥ 1 …).
 */
export function intParam(q: URLSearchParams, name: string, min?: number): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (v.length > 20 || !INT.test(v)) throw badRequest(`invalid value for query parameter ${name}: "${shown(v)}": must be an integer`);
  const n = BigInt(v);
  if (n < INT64_MIN || n > INT64_MAX) throw badRequest(`invalid value for query parameter ${name}: "${v}": out of the int64 range`);
  if (min !== undefined && n < BigInt(min)) throw badRequest(`invalid value for query parameter ${name}: ${v}: must be greater than or equal to ${min}`);
  return Number(n);
}

/** One of a fixed set of values; undefined when absent. */
export function enumParam<T extends string>(q: URLSearchParams, name: string, allowed: readonly T[]): T | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!(allowed as readonly string[]).includes(v))
    throw badRequest(`invalid value for query parameter ${name}: "${shown(v)}": supported values: ${allowed.map((a) => `"${a}"`).join(', ')}`);
  return v as T;
}

/** The request `timeout` (a Go duration, as kubectl's `--request-timeout` sends it), in ms. */
export function timeoutParam(q: URLSearchParams): number | undefined {
  const v = q.get('timeout');
  if (v === null || v === '') return undefined;
  try {
    return parseDuration(v);
  } catch (err) {
    if (err instanceof DurationError) throw badRequest(`invalid timeout specified in the request URL: ${err.message}`);
    throw err;
  }
}

/** Label and field selectors, parsed once here so that the error names the parameter. */
export function selectorParams(q: URLSearchParams): { labelSelector?: string; fieldSelector?: string } {
  const labelSelector = q.get('labelSelector') ?? undefined;
  const fieldSelector = q.get('fieldSelector') ?? undefined;
  for (const [name, value, parse] of [
    ['labelSelector', labelSelector, parseLabelSelector],
    ['fieldSelector', fieldSelector, parseFieldSelector],
  ] as const) {
    try {
      parse(value);
    } catch (err) {
      if (err instanceof SelectorError) throw badRequest(`invalid value for query parameter ${name}: ${err.message}`);
      throw err;
    }
  }
  return { labelSelector, fieldSelector };
}

/** What a list, get or watch asks about versions. */
export interface VersionQuery {
  /** The requested resourceVersion; undefined when absent or empty. */
  resourceVersion?: string;
  /** Its numeric value (0 for "0"). */
  revision?: number;
  match?: 'Exact' | 'NotOlderThan';
}

/**
 * `resourceVersion` and `resourceVersionMatch`, checked as kube-apiserver checks ListOptions: a
 * non-numeric version is a 400; a match without a version, `Exact` with "0", or a match on a watch
 * is a 422 on ListOptions.
 */
export function versionParams(q: URLSearchParams, watch: boolean, watchList = false): VersionQuery {
  const rv = q.get('resourceVersion') ?? '';
  const match = enumParam(q, 'resourceVersionMatch', ['Exact', 'NotOlderThan'] as const);
  let revision: number | undefined;
  if (rv !== '') {
    if (rv.length > 20 || !/^[0-9]+$/.test(rv) || BigInt(rv) > INT64_MAX)
      throw badRequest(`invalid value for query parameter resourceVersion: "${shown(rv)}": must be a non-negative integer (a resourceVersion this server returned)`);
    revision = Number(rv);
  }
  const causes: { field: string; message: string; reason: string }[] = [];
  if (match && watch) causes.push({ field: 'resourceVersionMatch', message: 'Forbidden: resourceVersionMatch is forbidden for watch', reason: 'FieldValueForbidden' });
  // A WatchList (sendInitialEvents) may ask NotOlderThan "" : the most recent state.
  else if (match && rv === '' && !watchList)
    causes.push({ field: 'resourceVersionMatch', message: 'Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided', reason: 'FieldValueForbidden' });
  else if (match === 'Exact' && revision === 0)
    causes.push({ field: 'resourceVersionMatch', message: 'Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"', reason: 'FieldValueForbidden' });
  if (causes.length) throw invalid('ListOptions', '', causes, 'meta.k8s.io');
  return { resourceVersion: rv === '' ? undefined : rv, revision, match };
}

/** kube-apiserver's answer for a version it has not reached: 504 Timeout, retry after 1 s. */
export function tooLargeResourceVersion(requested: number, current: number): ApiError {
  return new ApiError('Timeout', `Timeout: Too large resource version: ${requested}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    retryAfterSeconds: 1,
  });
}

const STREAM_BOOLS: Record<string, readonly string[]> = {
  log: ['follow', 'previous', 'timestamps', 'insecureSkipTLSVerifyBackend'],
  exec: ['stdin', 'stdout', 'stderr', 'tty'],
  attach: ['stdin', 'stdout', 'stderr', 'tty'],
  portforward: [],
};
const STREAM_INTS: Record<string, readonly (readonly [string, number])[]> = {
  log: [
    ['tailLines', 0],
    ['sinceSeconds', 1],
    ['limitBytes', 1],
  ],
};

/**
 * The query of a pods/log, exec, attach or portforward request, checked and rewritten in canonical
 * form (`true`/`false`, plain integers) before it is forwarded to the kubelet, so the kubelet reads
 * what the client meant whatever spelling it used.
 */
export function canonicalStreamQuery(subresource: string, q: URLSearchParams): URLSearchParams {
  const out = new URLSearchParams(q);
  for (const name of STREAM_BOOLS[subresource] ?? []) {
    const b = boolParam(q, name);
    if (b !== undefined) out.set(name, String(b));
  }
  for (const [name, min] of STREAM_INTS[subresource] ?? []) {
    const n = intParam(q, name, min);
    if (n !== undefined) out.set(name, String(n));
    else out.delete(name);
  }
  if (subresource === 'log') {
    const since = q.get('sinceTime');
    if (since !== null && since !== '' && (since.length > 64 || Number.isNaN(Date.parse(since))))
      throw badRequest(`invalid value for query parameter sinceTime: "${shown(since)}": must be an RFC 3339 time`);
    if (q.get('sinceTime') && q.get('sinceSeconds')) throw badRequest('at most one of sinceTime or sinceSeconds may be specified');
  }
  return out;
}
