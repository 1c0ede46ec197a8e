/**
 * Decodes `application/vnd.kubernetes.protobuf` request bodies into Kubernetes JSON objects.
 *
 * kubectl ≥ 1.31 sends the writes of its typed clients (create configmap/secret/deployment/service,
 * drain's evictions, …) in protobuf only, with no JSON fallback on 415, so the facade must read it.
 * Field tables come from proto/messages.json (generated from the official descriptors). Go's protobuf
 * encoder writes non-pointer fields even when zero, which JSON would omit; zero values are dropped
 * here except for the fields where zero/false is a meaningful pointer value (replicas: 0, suspend: false …).
 * Responses stay JSON: kubectl always accepts `application/json` too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ApiError, badRequest } from '../../api/errors.js';
import type { KObject } from '../../api/types.js';

/** [number, name, type, repeated(1/0), typeName?] */
type Field = [number, string, number, number, string?];
interface Message {
  map?: boolean;
  fields: Field[];
}

let tables: Record<string, Message> | undefined;
function messages(): Record<string, Message> {
  if (tables) return tables;
  for (const c of [new URL('./proto/messages.json', import.meta.url), new URL('../../../apiserver/rest/proto/messages.json', import.meta.url)]) {
    const p = fileURLToPath(c);
    if (existsSync(p)) return (tables = JSON.parse(readFileSync(p, 'utf8')) as Record<string, Message>);
  }
  return (tables = {});
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';
const GROUP_PACKAGES: Record<string, string> = {
  '': 'k8s.io.api.core',
  apps: 'k8s.io.api.apps',
  batch: 'k8s.io.api.batch',
  'coordination.k8s.io': 'k8s.io.api.coordination',
  'storage.k8s.io': 'k8s.io.api.storage',
  autoscaling: 'k8s.io.api.autoscaling',
  policy: 'k8s.io.api.policy',
  'scheduling.k8s.io': 'k8s.io.api.scheduling',
  'discovery.k8s.io': 'k8s.io.api.discovery',
  'authorization.k8s.io': 'k8s.io.api.authorization',
  'authentication.k8s.io': 'k8s.io.api.authentication',
  'rbac.authorization.k8s.io': 'k8s.io.api.rbac',
  'networking.k8s.io': 'k8s.io.api.networking',
};

/** Pointer fields whose zero value means something (and so must survive the zero-dropping). */
const KEEP_ZERO = new Set([
  'replicas', 'completions', 'parallelism', 'backoffLimit', 'terminationGracePeriodSeconds', 'activeDeadlineSeconds',
  'gracePeriodSeconds', 'revisionHistoryLimit', 'progressDeadlineSeconds', 'successfulJobsHistoryLimit',
  'failedJobsHistoryLimit', 'ttlSecondsAfterFinished', 'startingDeadlineSeconds', 'runAsUser', 'runAsGroup', 'fsGroup',
  'exitCode', 'defaultMode', 'mode', 'tolerationSeconds', 'priority',
]);
const KEEP_FALSE = new Set([
  'suspend', 'automountServiceAccountToken', 'runAsNonRoot', 'allowPrivilegeEscalation', 'privileged', 'readOnlyRootFilesystem',
  'immutable', 'optional', 'enableServiceLinks', 'setHostnameAsFQDN', 'shareProcessNamespace', 'hostUsers', 'orphanDependents',
  'allowVolumeExpansion', 'manualSelector', 'controller', 'blockOwnerDeletion',
]);
const KEEP_EMPTY_STRING = new Set(['storageClassName']);

/** Thrown for any malformed protobuf frame; the REST layer answers it with 400 BadRequest. */
const malformed = (why: string): ApiError => badRequest(`the protobuf body is malformed: ${why}`);

/** Nesting bound: Kubernetes objects nest ~20 messages deep; a hostile body must not exhaust the stack. */
export const MAX_PROTOBUF_DEPTH = 64;

/**
 * A bounds-checked protobuf reader: varints stop after 10 bytes (the longest a 64-bit value can be),
 * and every length is checked against the bytes that remain before anything is sliced or skipped, so
 * a body costs at most one pass over its own bytes.
 */
class Reader {
  pos = 0;
  readonly end: number;
  constructor(readonly buf: Buffer) {
    this.end = buf.length;
  }
  varint(): bigint {
    let result = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw malformed('truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << BigInt(7 * i);
      if ((b & 0x80) === 0) return BigInt.asUintN(64, result);
    }
    throw malformed(`varint longer than 10 bytes at offset ${this.pos - 10}`);
  }
  /** Reserves `n` bytes and returns where they start. */
  take(n: number): number {
    if (n > this.end - this.pos) throw malformed(`a field claims ${n} bytes but only ${this.end - this.pos} remain`);
    const at = this.pos;
    this.pos += n;
    return at;
  }
  bytes(): Buffer {
    const len = this.varint();
    if (len > BigInt(this.end - this.pos)) throw malformed(`a field claims ${len} bytes but only ${this.end - this.pos} remain`);
    const at = this.take(Number(len));
    return this.buf.subarray(at, at + Number(len));
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.take(8);
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.take(4);
    else throw malformed(`unsupported wire type ${wire}`);
  }
}

/** The wire type each scalar field type is written with (unpacked). */
function wireOf(type: number): number {
  if (type === 1 || type === 6 || type === 16) return 1;
  if (type === 2 || type === 7 || type === 15) return 5;
  if (type === 9 || type === 12 || type === 11) return 2;
  return 0;
}

function scalar(type: number, r: Reader): unknown {
  switch (type) {
    case 1:
      return r.buf.readDoubleLE(r.take(8));
    case 2:
      return r.buf.readFloatLE(r.take(4));
    case 6:
      return Number(r.buf.readBigUInt64LE(r.take(8)));
    case 16:
      return Number(r.buf.readBigInt64LE(r.take(8)));
    case 7:
      return r.buf.readUInt32LE(r.take(4));
    case 15:
      return r.buf.readInt32LE(r.take(4));
    case 8:
      return r.varint() !== 0n;
    case 9:
      return r.bytes().toString('utf8');
    case 12:
      return r.bytes().toString('base64');
    case 5:
    case 14:
      return Number(BigInt.asIntN(32, r.varint()));
    case 13:
      return Number(BigInt.asUintN(32, r.varint()));
    case 4:
      return Number(r.varint());
    case 17:
    case 18: {
      const v = r.varint();
      return Number((v >> 1n) ^ -(v & 1n));
    }
    default:
      return Number(BigInt.asIntN(64, r.varint()));
  }
}

function timeString(msg: Record<string, unknown>, micro: boolean): string | undefined {
  const seconds = Number(msg.seconds ?? 0);
  const nanos = Number(msg.nanos ?? 0);
  if (seconds <= 0 && nanos === 0) return undefined;
  const iso = new Date(seconds * 1000).toISOString();
  return micro ? iso.replace(/\.\d{3}Z$/, `.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z`) : iso.replace(/\.\d{3}Z$/, 'Z');
}

/** Post-processing of the well-known apimachinery wrapper types into their JSON forms. */
function special(typeName: string, msg: Record<string, unknown>): unknown {
  switch (typeName) {
    case `${META}.Time`:
      return timeString(msg, false);
    case `${META}.MicroTime`:
      return timeString(msg, true);
    case 'k8s.io.apimachinery.pkg.api.resource.Quantity':
      return msg.string ?? '0';
    case 'k8s.io.apimachinery.pkg.util.intstr.IntOrString':
      return msg.type === 1 ? (msg.strVal ?? '') : (msg.intVal ?? 0);
    case 'k8s.io.apimachinery.pkg.runtime.RawExtension':
    case `${META}.FieldsV1`: {
      const b = typeof msg.raw === 'string' ? Buffer.from(msg.raw, 'base64').toString('utf8') : '';
      try {
        return b ? (JSON.parse(b) as unknown) : {};
      } catch {
        return {};
      }
    }
    default:
      return msg;
  }
}

function decodeMessage(typeName: string, r: Reader, depth: number): unknown {
  if (depth > MAX_PROTOBUF_DEPTH) throw malformed(`messages nested more than ${MAX_PROTOBUF_DEPTH} deep`);
  const def = messages()[typeName];
  if (!def) throw badRequest(`protobuf type ${typeName} is not known to this server`);
  const byNum = new Map(def.fields.map((f) => [f[0], f]));
  const out: Record<string, unknown> = {};
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag > 0xffffffffn) throw malformed(`field tag ${tag} out of range`);
    const num = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (num === 0) throw malformed(`field number 0 at offset ${r.pos}`);
    const f = byNum.get(num);
    if (!f) {
      r.skip(wire);
      continue;
    }
    const [, name, type, repeated, sub] = f;
    let values: unknown[];
    if (type === 11 && sub) {
      if (wire !== 2) throw malformed(`field ${name} of ${typeName} has wire type ${wire}, want 2`);
      values = [decodeMessage(sub, new Reader(r.bytes()), depth + 1)];
    } else if (repeated && wire === 2 && wireOf(type) !== 2) {
      // A packed repeated scalar: one length-delimited run of values.
      const inner = new Reader(r.bytes());
      values = [];
      while (inner.pos < inner.end) values.push(scalar(type, inner));
    } else {
      if (wire !== wireOf(type)) throw malformed(`field ${name} of ${typeName} has wire type ${wire}, want ${wireOf(type)}`);
      values = [scalar(type, r)];
    }
    const subDef = sub ? messages()[sub] : undefined;
    if (subDef?.map) {
      const m = (out[name] ??= {}) as Record<string, unknown>;
      for (const e of values as { key?: string; value?: unknown }[]) m[String(e.key ?? '')] = e.value ?? (subDef.fields[1]?.[2] === 9 ? '' : null);
    } else if (repeated) (out[name] = (out[name] as unknown[] | undefined) ?? []) && (out[name] as unknown[]).push(...values);
    else out[name] = values[0];
  }
  for (const [k, v] of Object.entries(out)) {
    if (v === undefined) delete out[k];
    else if (v === '' && !KEEP_EMPTY_STRING.has(k)) delete out[k];
    else if (v === false && !KEEP_FALSE.has(k)) delete out[k];
    else if (v === 0 && !KEEP_ZERO.has(k)) delete out[k];
  }
  return special(typeName, out);
}

/** Decodes a `k8s\0`-framed protobuf body (runtime.Unknown envelope) into the JSON object it carries. */
export function decodeProtobufObject(body: Buffer): KObject {
  try {
    return decodeFrame(body);
  } catch (err) {
    if (err instanceof ApiError) throw err;
    // Anything else (a RangeError from a buffer read, a bad UTF-8 JSON payload) is still the body's fault.
    throw malformed((err as Error).message);
  }
}

function decodeFrame(body: Buffer): KObject {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw badRequest('the protobuf body does not start with the Kubernetes magic number');
  // The runtime.Unknown envelope is read by hand so that `raw` stays a view of the body (no base64
  // round trip of up to 3 MiB before the object is even looked at).
  const r = new Reader(body.subarray(4));
  const env: { typeMeta?: { apiVersion?: string; kind?: string }; raw?: Buffer } = {};
  while (r.pos < r.end) {
    const tag = r.varint();
    const num = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if ((num === 1 || num === 2) && wire !== 2) throw malformed(`field ${num} of runtime.Unknown has wire type ${wire}, want 2`);
    if (num === 1) env.typeMeta = decodeMessage('k8s.io.apimachinery.pkg.runtime.TypeMeta', new Reader(r.bytes()), 1) as typeof env.typeMeta;
    else if (num === 2) env.raw = r.bytes();
    else if (num === 0) throw malformed('field number 0 in runtime.Unknown');
    else r.skip(wire);
  }
  const apiVersion = env.typeMeta?.apiVersion ?? '';
  const kind = env.typeMeta?.kind ?? '';
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const candidates = [`${GROUP_PACKAGES[group] ?? ''}.${version}.${kind}`, `${META}.${kind}`];
  const typeName = candidates.find((c) => messages()[c]);
  if (!typeName) throw badRequest(`protobuf bodies of ${apiVersion} ${kind} are not supported; send JSON`);
  const obj = decodeMessage(typeName, new Reader(env.raw ?? Buffer.alloc(0)), 0) as KObject;
  return { apiVersion, kind, ...obj };
}
