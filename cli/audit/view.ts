/**
 * `kubelab audit`'s view of the apiserver's audit log: audit.k8s.io/v1 Events, one JSON line each, filtered
 * and printed as a table (or passed through as JSON). Pure: the command feeds it the lines it reads.
 */
/** The fields of an audit Event the view reads; the rest passes through untouched with `-o json`. */
export interface AuditEvent {
  kind: 'Event';
  verb: string;
  requestURI: string;
  stageTimestamp?: string;
  requestReceivedTimestamp?: string;
  user: { username: string; groups?: string[] };
  sourceIPs?: string[];
  objectRef?: { resource?: string; namespace?: string; name?: string; subresource?: string; apiGroup?: string };
  responseStatus?: { code?: number };
  annotations?: Record<string, string>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface AuditFilter {
  user?: string;
  verb?: string;
  /** `pods`, or `pods/exec` for a subresource. */
  resource?: string;
  namespace?: string;
  /** Only refused requests (4xx/5xx). */
  failed?: boolean;
}

/** One log line → its Event, or the reason it is not one (a torn last line, a foreign file). */
export function parseAuditLine(line: string): { event: AuditEvent } | { error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { error: 'not JSON' };
  }
  if (!isObject(raw) || raw.kind !== 'Event') return { error: 'kind: not an audit Event' };
  if (typeof raw.verb !== 'string') return { error: 'verb: not a string' };
  if (typeof raw.requestURI !== 'string') return { error: 'requestURI: not a string' };
  if (!isObject(raw.user) || typeof raw.user.username !== 'string') return { error: 'user.username: not a string' };
  if (raw.objectRef !== undefined && !isObject(raw.objectRef)) return { error: 'objectRef: not an object' };
  if (raw.responseStatus !== undefined && (!isObject(raw.responseStatus) || (raw.responseStatus.code !== undefined && typeof raw.responseStatus.code !== 'number')))
    return { error: 'responseStatus.code: not a number' };
  if (raw.annotations !== undefined && !isObject(raw.annotations)) return { error: 'annotations: not an object' };
  return { event: raw as unknown as AuditEvent };
}

export function matches(e: AuditEvent, f: AuditFilter): boolean {
  if (f.user && e.user.username !== f.user) return false;
  if (f.verb && e.verb !== f.verb) return false;
  if (f.namespace && e.objectRef?.namespace !== f.namespace) return false;
  if (f.resource) {
    const [res, sub] = f.resource.split('/');
    if (e.objectRef?.resource !== res) return false;
    if (sub !== undefined && e.objectRef?.subresource !== sub) return false;
  }
  if (f.failed && (e.responseStatus?.code ?? 0) < 400) return false;
  return true;
}

/** `pods/exec default/web-1`, `nodes worker-1`, or the URL of a non-resource request. */
export function objectOf(e: AuditEvent): string {
  const o = e.objectRef;
  if (!o?.resource) return e.requestURI;
  const kind = [o.apiGroup ? `${o.resource}.${o.apiGroup}` : o.resource, o.subresource].filter(Boolean).join('/');
  const name = [o.namespace, o.name].filter(Boolean).join('/');
  return name ? `${kind} ${name}` : kind;
}

export const HEADER = ['TIME', 'USER', 'VERB', 'CODE', 'OBJECT', 'VIA'] as const;

/** A table row: the time of day (UTC, as the log), the user, the verb, the code, the object and the API. */
export function row(e: AuditEvent): string[] {
  const ts = e.stageTimestamp ?? e.requestReceivedTimestamp ?? '';
  const time = /T(\d\d:\d\d:\d\d)/.exec(ts)?.[1] ?? ts;
  const via = e.annotations?.['kubelab.io/transport'] === 'grpc' ? 'gRPC' : 'REST';
  return [time, e.user.username, e.verb, String(e.responseStatus?.code ?? ''), objectOf(e), via];
}

/** Column widths while following: rows are printed one at a time, so they cannot be measured first. */
export const FOLLOW_WIDTHS = [8, 30, 6, 4, 44, 4];

/** Pads the rows into columns (kubectl's tabwriter, 3 spaces), each at least `min` wide. */
export function columns(rows: string[][], min: number[] = []): string {
  const widths = rows.reduce<number[]>((w, r) => r.map((c, i) => Math.max(w[i] ?? 0, c.length)), [...min]);
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 3))).join('').trimEnd()).join('\n');
}
