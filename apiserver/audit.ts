/**
 * Kubernetes' audit log (staging/src/k8s.io/apiserver/pkg/audit): an audit.k8s.io/v1 Policy decides each
 * request's level — None, Metadata, Request (with the request body) or RequestResponse (and the response
 * body) — by its first matching rule; one `Event` per request is written as a JSON line at stage
 * ResponseComplete (the long-running watch and exec streams at ResponseStarted), as kube-apiserver's
 * --audit-log-path does.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import YAML from 'yaml';
import type { Attributes } from './auth/attributes.js';

export type AuditLevel = 'None' | 'Metadata' | 'Request' | 'RequestResponse';
const LEVELS: readonly AuditLevel[] = ['None', 'Metadata', 'Request', 'RequestResponse'];

interface GroupResources {
  group?: string;
  resources?: string[];
  resourceNames?: string[];
}

export interface AuditRule {
  level: AuditLevel;
  users?: string[];
  userGroups?: string[];
  verbs?: string[];
  resources?: GroupResources[];
  namespaces?: string[];
  nonResourceURLs?: string[];
}

export class AuditPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditPolicyError';
  }
}

/** Parses an audit.k8s.io/v1 Policy; errors name the field. */
export function parseAuditPolicy(text: string): AuditRule[] {
  let doc: { kind?: unknown; rules?: unknown };
  try {
    doc = YAML.parse(text) as { kind?: unknown; rules?: unknown };
  } catch (err) {
    throw new AuditPolicyError(`the audit policy is not YAML: ${(err as Error).message}`);
  }
  if (!doc || doc.kind !== 'Policy') throw new AuditPolicyError(`kind: must be "Policy", got ${JSON.stringify(doc?.kind)}`);
  if (!Array.isArray(doc.rules) || doc.rules.length === 0) throw new AuditPolicyError('rules: at least one rule is required');
  return doc.rules.map((r: AuditRule, i: number) => {
    if (!LEVELS.includes(r?.level)) throw new AuditPolicyError(`rules[${i}].level: Unsupported value: ${JSON.stringify(r?.level)}: supported values: ${LEVELS.map((l) => `"${l}"`).join(', ')}`);
    if (r.resources && r.nonResourceURLs) throw new AuditPolicyError(`rules[${i}]: rules cannot apply to both regular resources and non-resource URLs`);
    return r;
  });
}

const matchList = (list: readonly string[] | undefined, v: string): boolean => !list || list.length === 0 || list.includes(v);

/** The level of the first rule that matches (policy.Checker.LevelAndStages); None when none does. */
export function auditLevel(rules: readonly AuditRule[], a: Attributes): AuditLevel {
  for (const r of rules) {
    if (!matchList(r.users, a.user.name)) continue;
    if (r.userGroups?.length && !a.user.groups.some((g) => r.userGroups?.includes(g))) continue;
    if (!matchList(r.verbs, a.verb)) continue;
    if (r.namespaces?.length || r.resources?.length) {
      if (!a.resourceRequest) continue;
      if (r.namespaces?.length && !r.namespaces.includes(a.namespace)) continue;
      if (r.resources?.length) {
        const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
        const hit = r.resources.some(
          (gr) =>
            (gr.group ?? '') === a.apiGroup &&
            (!gr.resources?.length || gr.resources.some((x) => x === combined || x === '*' || (x === `${a.resource}/*` && a.subresource !== '') || (x === `*/${a.subresource}` && a.subresource !== ''))) &&
            matchList(gr.resourceNames, a.name),
        );
        if (!hit) continue;
      }
    }
    if (r.nonResourceURLs?.length) {
      if (a.resourceRequest) continue;
      if (!r.nonResourceURLs.some((u) => u === a.path || (u.endsWith('*') && a.path.startsWith(u.slice(0, -1))))) continue;
    }
    return r.level;
  }
  return 'None';
}

export interface AuditRecord {
  attrs: Attributes;
  requestURI: string;
  sourceIP: string;
  userAgent?: string;
  code: number;
  started: Date;
  decision?: { allowed: boolean; reason: string };
  requestObject?: unknown;
  responseObject?: unknown;
  stage?: 'ResponseStarted' | 'ResponseComplete';
  /** The created object's name, for objectRef.name of a create (its URL names only the collection), as Kubernetes. */
  objectName?: string;
  /** `grpc` for a call of kubelab's gRPC API (annotation `kubelab.io/transport`); REST events carry none. */
  transport?: 'grpc';
}

const micro = (d: Date): string => d.toISOString().replace('Z', '000Z');

/** Rotation, as kube-apiserver's --audit-log-maxsize / --audit-log-maxbackup (0: never / keep all). */
export interface AuditRotation {
  maxSizeBytes: number;
  maxBackups: number;
  /** A write or rotation that failed (a full disk): reported, and the apiserver serves on. */
  onError?: (err: Error) => void;
}

export class AuditLog {
  private out: WriteStream;
  private size: number;
  /** Streams of rotated files still flushing: close() waits for them too. */
  private readonly closing: Promise<void>[] = [];

  constructor(
    readonly rules: readonly AuditRule[],
    private readonly path: string,
    private readonly rotation: AuditRotation = { maxSizeBytes: 0, maxBackups: 0 },
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.size = existsSync(path) ? statSync(path).size : 0;
    this.out = this.openStream();
  }

  private openStream(): WriteStream {
    // The file is opened now, not on the next tick: a rotation right after renames a file that exists, and
    // the lines this stream still buffers follow its descriptor into `<path>.1`.
    const out = createWriteStream('', { fd: openSync(this.path, 'a') });
    out.on('error', (err) => this.rotation.onError?.(err));
    return out;
  }

  static open(policyFile: string, logPath: string, rotation?: AuditRotation): AuditLog {
    return new AuditLog(parseAuditPolicy(readFileSync(policyFile, 'utf8')), logPath, rotation);
  }

  /**
   * `<path>` becomes `<path>.1` (`.1` → `.2` …, the oldest beyond maxBackups removed) and a new file starts.
   * The old stream finishes its buffered lines into the renamed file (the descriptor follows the rename).
   */
  private rotate(): void {
    const { maxBackups } = this.rotation;
    let last = 1;
    while (existsSync(`${this.path}.${last}`)) last++;
    if (maxBackups > 0) {
      for (let n = maxBackups; n < last; n++) rmSync(`${this.path}.${n}`, { force: true });
      last = Math.min(last, maxBackups);
    }
    for (let n = last - 1; n >= 1; n--) renameSync(`${this.path}.${n}`, `${this.path}.${n + 1}`);
    renameSync(this.path, `${this.path}.1`);
    const old = this.out;
    this.closing.push(new Promise((resolve) => old.end(() => resolve())));
    this.out = this.openStream();
    this.size = 0;
  }

  level(a: Attributes): AuditLevel {
    return auditLevel(this.rules, a);
  }

  write(r: AuditRecord, level: AuditLevel): void {
    if (level === 'None') return;
    const a = r.attrs;
    const event = {
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level,
      auditID: randomUUID(),
      stage: r.stage ?? 'ResponseComplete',
      requestURI: r.requestURI,
      verb: a.verb,
      user: { username: a.user.name, ...(a.user.uid ? { uid: a.user.uid } : {}), groups: a.user.groups },
      sourceIPs: [r.sourceIP],
      ...(r.userAgent ? { userAgent: r.userAgent } : {}),
      ...(a.resourceRequest
        ? { objectRef: { resource: a.resource, ...(a.namespace ? { namespace: a.namespace } : {}), ...(a.name || r.objectName ? { name: a.name || r.objectName } : {}), apiGroup: a.apiGroup, apiVersion: a.apiVersion, ...(a.subresource ? { subresource: a.subresource } : {}) } }
        : {}),
      responseStatus: { metadata: {}, code: r.code },
      ...(level !== 'Metadata' && r.requestObject !== undefined ? { requestObject: r.requestObject } : {}),
      ...(level === 'RequestResponse' && r.responseObject !== undefined ? { responseObject: r.responseObject } : {}),
      requestReceivedTimestamp: micro(r.started),
      stageTimestamp: micro(new Date()),
      ...(r.decision || r.transport
        ? {
            annotations: {
              ...(r.decision ? { 'authorization.k8s.io/decision': r.decision.allowed ? 'allow' : 'forbid', 'authorization.k8s.io/reason': r.decision.reason } : {}),
              ...(r.transport ? { 'kubelab.io/transport': r.transport } : {}),
            },
          }
        : {}),
    };
    const line = JSON.stringify(event) + '\n';
    const bytes = Buffer.byteLength(line);
    if (this.rotation.maxSizeBytes > 0 && this.size > 0 && this.size + bytes > this.rotation.maxSizeBytes) {
      try {
        this.rotate();
      } catch (err) {
        // A failed rename (a full or read-only disk) keeps writing to the current file: losing events is worse.
        this.rotation.onError?.(err as Error);
      }
    }
    this.out.write(line);
    this.size += bytes;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.out.end(() => resolve()));
    await Promise.all(this.closing);
  }
}

/** `metadata.name` of a request body (a create's object), when it has a string one. */
export function createdName(verb: string, body: unknown): string | undefined {
  if (verb !== 'create' || typeof body !== 'object' || body === null) return undefined;
  const name = (body as { metadata?: { name?: unknown } }).metadata?.name;
  return typeof name === 'string' && name ? name : undefined;
}
