/**
 * Typed decoding of request objects, driven by the OpenAPI definitions the apiserver serves
 * (rest/openapi/definitions.json, the one schema source), so a newly served kind is checked for free.
 *
 * Kubernetes decodes every body into its Go struct before validating it; a body that does not fit
 * (a string where a list belongs, an array where a map belongs, `1.5` where an int32 belongs) is a
 * 400 worded by Go's encoding/json. Nothing downstream (defaulting, validation, the scheduler) ever
 * sees such an object. This module gives the same guarantee: each definition is compiled once into a
 * tree of small checkers, and `decodeObject` walks a body along it, reporting every mismatch with the
 * path and normalising the body the way a decode/encode round trip would (nulls dropped, numeric
 * quantities turned into strings).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ApiError, type StatusCause } from '../api/errors.js';
import type { ResourceInfo } from '../api/resources.js';

/** An OpenAPI v2 schema as found in definitions.json (only the parts that matter here are typed). */
export interface Schema {
  type?: string;
  format?: string;
  description?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  allOf?: Schema[];
  $ref?: string;
  required?: string[];
  nullable?: boolean;
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[];
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  [ext: string]: unknown;
}

let defsCache: Record<string, Schema> | undefined;

/** The vendored definitions; found beside the source, or from dist/ via the source tree. */
export function definitions(): Record<string, Schema> {
  if (defsCache) return defsCache;
  const candidates = [new URL('./rest/openapi/definitions.json', import.meta.url), new URL('../../apiserver/rest/openapi/definitions.json', import.meta.url)];
  for (const c of candidates) {
    const p = fileURLToPath(c);
    if (existsSync(p)) {
      defsCache = JSON.parse(readFileSync(p, 'utf8')) as Record<string, Schema>;
      return defsCache;
    }
  }
  // Without the schemas nothing could be type-checked: refuse to run rather than let bodies through.
  throw new Error(`apiserver/rest/openapi/definitions.json not found (looked in ${candidates.map((c) => fileURLToPath(c)).join(', ')})`);
}

const DEF_PREFIX: Record<string, string> = { '': 'io.k8s.api.core.v1' };

/**
 * The definition name of a served kind (`io.k8s.api.apps.v1.Deployment`); the package is the group's
 * first label (`rbac.authorization.k8s.io` → `io.k8s.api.rbac.v1`).
 */
export function defName(info: Pick<ResourceInfo, 'group' | 'version' | 'kind'>): string {
  const group = info.group === '' ? 'core' : info.group.split('.')[0];
  return `${DEF_PREFIX[info.group] ?? `io.k8s.api.${group}.${info.version}`}.${info.kind}`;
}

// ------------------------------------------------------------------------------------ compiled nodes

/** A compiled schema node. `go` is the Go type name Kubernetes' decoder would print. */
type Node =
  | { readonly k: 'string' | 'bool' | 'intstr' | 'quantity' | 'time' | 'any'; readonly go: string; readonly nullable: boolean }
  | { readonly k: 'int'; readonly go: string; readonly nullable: boolean }
  | { readonly k: 'array'; readonly go: string; readonly nullable: boolean; items: Node }
  | { readonly k: 'map'; readonly go: string; readonly nullable: boolean; values: Node }
  | {
      readonly k: 'object';
      readonly go: string;
      readonly nullable: boolean;
      /** The Go struct name printed before the field path (`NodeAffinity`). */
      readonly struct: string;
      /** Unknown fields are kept without complaint (x-kubernetes-preserve-unknown-fields). */
      readonly preserve: boolean;
      readonly props: Map<string, Node>;
    };

const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const compiled = new Map<string, Node>();

/** `io.k8s.api.core.v1.PodSpec` → `v1.PodSpec`, as Go prints a type from package v1. */
function goName(def: string): string {
  const parts = def.split('.');
  return parts.slice(-2).join('.');
}

function compileRef(def: string): Node {
  const hit = compiled.get(def);
  if (hit) return hit;
  const schema = definitions()[def];
  if (!schema) {
    const any: Node = { k: 'any', go: goName(def), nullable: true };
    compiled.set(def, any);
    return any;
  }
  if (def === QUANTITY) {
    const q: Node = { k: 'quantity', go: 'resource.Quantity', nullable: false };
    compiled.set(def, q);
    return q;
  }
  if (schema.properties && Object.keys(schema.properties).length > 0) {
    // Registered before its fields are compiled, so a recursive definition refers to itself.
    const node: Node = {
      k: 'object',
      go: goName(def),
      nullable: schema.nullable === true,
      struct: def.split('.').pop() ?? def,
      preserve: schema['x-kubernetes-preserve-unknown-fields'] === true,
      props: new Map(),
    };
    compiled.set(def, node);
    for (const [name, prop] of Object.entries(schema.properties)) node.props.set(name, compileSchema(prop, goName(def)));
    return node;
  }
  const node = compileSchema(schema, goName(def), goName(def));
  compiled.set(def, node);
  return node;
}

/** Compiles an inline schema; `named` is the Go name when the schema is a whole definition. */
function compileSchema(s: Schema, owner: string, named?: string): Node {
  if (s.$ref) return compileRef(s.$ref.slice('#/definitions/'.length));
  if (s.allOf?.length === 1 && !s.properties && !s.type) return compileSchema(s.allOf[0], owner, named);
  const nullable = s.nullable === true;
  if (s['x-kubernetes-int-or-string'] === true || s.format === 'int-or-string') return { k: 'intstr', go: 'intstr.IntOrString', nullable };
  if (s.format === 'quantity') return { k: 'quantity', go: 'resource.Quantity', nullable };
  switch (s.type) {
    case 'string':
      return s.format === 'date-time' ? { k: 'time', go: named ?? 'v1.Time', nullable } : { k: 'string', go: named ?? 'string', nullable };
    case 'integer':
      return { k: 'int', go: s.format === 'int32' ? 'int32' : 'int64', nullable };
    case 'number':
      return { k: 'any', go: 'float64', nullable };
    case 'boolean':
      return { k: 'bool', go: 'bool', nullable };
    case 'array': {
      const items = s.items ? compileSchema(s.items, owner) : ({ k: 'any', go: 'interface {}', nullable: true } as const);
      return { k: 'array', go: `[]${items.go}`, nullable, items };
    }
    case 'object':
    case undefined: {
      const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
      if (s.properties && Object.keys(s.properties).length > 0) {
        const props = new Map<string, Node>();
        for (const [name, prop] of Object.entries(s.properties)) props.set(name, compileSchema(prop, owner));
        return { k: 'object', go: named ?? owner, nullable, struct: (named ?? owner).split('.').pop() ?? owner, preserve, props };
      }
      if (typeof s.additionalProperties === 'object') {
        const values = compileSchema(s.additionalProperties, owner);
        return { k: 'map', go: `map[string]${values.go}`, nullable, values };
      }
      // No fields and no value type: a free-form object (RawExtension, FieldsV1, preserve-unknown-fields).
      return s.type === 'object' && !preserve ? { k: 'object', go: named ?? 'map[string]interface {}', nullable, struct: '', preserve: true, props: new Map() } : { k: 'any', go: named ?? 'interface {}', nullable: true };
    }
    default:
      return { k: 'any', go: named ?? 'interface {}', nullable: true };
  }
}

// ------------------------------------------------------------------------------------------ walking

/** One value that does not fit its type. */
export interface TypeMismatch {
  /** The precise path (`spec.containers[0].ports[1].containerPort`, `metadata.labels[app]`). */
  readonly field: string;
  /** Go's wording (`json: cannot unmarshal string into Go struct field …`). */
  readonly message: string;
}

/** What a decode found: type mismatches (each fatal) and fields the schema does not know. */
export interface DecodeResult {
  readonly mismatches: TypeMismatch[];
  readonly unknown: string[];
}

/**
 * One step from the root: a struct field (Go prints these), a list index or a map key (Go does not).
 * Kept on a stack while walking, so a path string is only built when something is wrong.
 */
interface Step {
  readonly key: string | number;
  readonly field: boolean;
  /** The Go struct the field belongs to. */
  readonly struct: string;
}

interface Ctx {
  readonly mismatches: TypeMismatch[];
  readonly unknown: string[];
  /** Patch bodies: `$patch`, `$retainKeys`, … are directives, not fields. */
  readonly isPatch: boolean;
  /** Type-check and normalise (false: only collect unknown fields). */
  readonly typed: boolean;
  /** The kind's name, the struct Go names for a top-level field. */
  readonly kind: string;
  readonly steps: Step[];
}

/** The JSON kind Go names in "cannot unmarshal X" (`number 1.5` for a fraction into an int). */
function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  return typeof v;
}

/** RFC 3339 as Go's time.Parse(time.RFC3339) accepts it; linear, no nested quantifiers. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;

function short(v: string): string {
  return v.length > 64 ? `${v.slice(0, 64)}…` : v;
}

/** `spec.containers[0].resources.limits[cpu]` */
function pathOf(steps: readonly Step[]): string {
  let p = '';
  for (const s of steps) p += s.field ? (p ? `.${String(s.key)}` : String(s.key)) : `[${String(s.key)}]`;
  return p;
}

/**
 * Records a value that does not fit, worded as Go's decoder words it: the innermost struct type and
 * the struct field names from the root, without list indexes or map keys.
 */
function mismatch(ctx: Ctx, node: Node, value: unknown, what = jsonKind(value)): void {
  const fields = ctx.steps.filter((s) => s.field);
  const last = fields[fields.length - 1];
  const into = last ? `Go struct field ${last.struct}.${fields.map((s) => String(s.key)).join('.')}` : 'Go value';
  ctx.mismatches.push({ field: pathOf(ctx.steps), message: `json: cannot unmarshal ${what} into ${into} of type ${node.go}` });
}

/** The zero value Go leaves where a list item or map value was `null`. */
function zero(node: Node): unknown {
  switch (node.k) {
    case 'string':
    case 'time':
      return '';
    case 'int':
      return 0;
    case 'bool':
      return false;
    case 'quantity':
      return '0';
    case 'object':
    case 'map':
      return {};
    case 'array':
      return [];
    default:
      return null;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Checks `value` against `node` (its place is on ctx.steps); returns the value to keep (a quantity
 * given as a number becomes its string form, as Kubernetes re-encodes it).
 */
function walk(node: Node, value: unknown, ctx: Ctx): unknown {
  switch (node.k) {
    case 'any':
      return value;
    case 'string':
      if (ctx.typed && typeof value !== 'string') mismatch(ctx, node, value);
      return value;
    case 'bool':
      if (ctx.typed && typeof value !== 'boolean') mismatch(ctx, node, value);
      return value;
    case 'int':
      if (!ctx.typed) return value;
      if (typeof value !== 'number') mismatch(ctx, node, value);
      else if (!Number.isSafeInteger(value)) mismatch(ctx, node, value, `number ${value}`);
      return value;
    case 'intstr':
      if (!ctx.typed) return value;
      if (typeof value === 'number') {
        if (!Number.isSafeInteger(value)) mismatch(ctx, node, value, `number ${value}`);
      } else if (typeof value !== 'string') mismatch(ctx, node, value);
      return value;
    case 'quantity':
      if (!ctx.typed) return value;
      if (typeof value === 'number' && Number.isFinite(value)) return String(value);
      if (typeof value !== 'string') mismatch(ctx, node, value);
      return value;
    case 'time':
      if (!ctx.typed) return value;
      if (typeof value !== 'string') mismatch(ctx, node, value);
      else if (!RFC3339.test(value))
        ctx.mismatches.push({ field: pathOf(ctx.steps), message: `parsing time "${short(value)}" as "2006-01-02T15:04:05Z07:00": cannot parse "${short(value)}" as RFC 3339` });
      return value;
    case 'array': {
      if (!Array.isArray(value)) {
        if (ctx.typed) mismatch(ctx, node, value);
        return value;
      }
      const items = node.items;
      if (items.k === 'any') return value;
      const struct = ctx.steps.length ? ctx.steps[ctx.steps.length - 1].struct : ctx.kind;
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (item === null || item === undefined) {
          if (ctx.typed && !items.nullable) value[i] = zero(items);
          continue;
        }
        ctx.steps.push({ key: i, field: false, struct });
        const kept = walk(items, item, ctx);
        ctx.steps.pop();
        if (kept !== item) value[i] = kept;
      }
      return value;
    }
    case 'map': {
      if (!isRecord(value)) {
        if (ctx.typed) mismatch(ctx, node, value);
        return value;
      }
      const values = node.values;
      if (values.k === 'any' || (values.k === 'string' && !ctx.typed)) return value;
      const struct = ctx.steps.length ? ctx.steps[ctx.steps.length - 1].struct : ctx.kind;
      for (const key in value) {
        const v = value[key];
        if (v === undefined) continue;
        if (v === null) {
          if (ctx.typed && !values.nullable) value[key] = zero(values);
          continue;
        }
        ctx.steps.push({ key, field: false, struct });
        const kept = walk(values, v, ctx);
        ctx.steps.pop();
        if (kept !== v) value[key] = kept;
      }
      return value;
    }
    case 'object': {
      if (!isRecord(value)) {
        if (ctx.typed) mismatch(ctx, node, value);
        return value;
      }
      for (const key in value) {
        const v = value[key];
        const child = node.props.get(key);
        if (!child) {
          if (!node.preserve && !(ctx.isPatch && key.startsWith('$'))) {
            ctx.steps.push({ key, field: true, struct: node.struct });
            ctx.unknown.push(pathOf(ctx.steps));
            ctx.steps.pop();
          }
          continue;
        }
        // `undefined` is what internal callers leave for "absent" (JSON never carries it).
        if (v === undefined) continue;
        if (v === null) {
          // Go leaves a field it is given `null` for at its zero value, which encodes as absent.
          if (ctx.typed && !child.nullable) delete value[key];
          continue;
        }
        if (child.k === 'any') continue;
        // The common scalar cases without a stack push (most fields of a typical object).
        if (child.k === 'string' && typeof v === 'string') continue;
        if (child.k === 'int' && Number.isSafeInteger(v)) continue;
        if (child.k === 'bool' && typeof v === 'boolean') continue;
        ctx.steps.push({ key, field: true, struct: node.struct });
        const kept = walk(child, v, ctx);
        ctx.steps.pop();
        if (kept !== v) value[key] = kept;
      }
      return value;
    }
  }
}

/** Compiles the checkers of these kinds now (the apiserver does it at start, not on a first request). */
export function compileSchemas(infos: readonly Pick<ResourceInfo, 'group' | 'version' | 'kind'>[]): void {
  for (const info of infos) rootOf(info);
}

/** The compiled checker of a served kind (compiled on first use, then cached). */
function rootOf(info: Pick<ResourceInfo, 'group' | 'version' | 'kind'>): Node {
  let root = roots.get(info);
  if (!root) {
    root = compileRef(defName(info));
    roots.set(info, root);
  }
  return root;
}

/** Per resource table entry, so the hot path builds no definition name. */
const roots = new WeakMap<object, Node>();

/**
 * Type-checks `obj` against the schema of `info`'s kind and normalises it in place (drops `null`
 * fields, turns numeric quantities into strings). Returns the mismatches and the unknown fields.
 */
export function decodeObject(info: Pick<ResourceInfo, 'group' | 'version' | 'kind'>, obj: unknown): DecodeResult {
  const ctx: Ctx = { mismatches: [], unknown: [], isPatch: false, typed: true, kind: info.kind, steps: [] };
  walk(rootOf(info), obj, ctx);
  return { mismatches: ctx.mismatches, unknown: ctx.unknown };
}

/** Field paths in `body` that the kind's schema does not have (`spec.foo`, `spec.containers[0].bar`). */
export function unknownFields(info: Pick<ResourceInfo, 'group' | 'version' | 'kind'>, body: unknown, isPatch = false): string[] {
  const ctx: Ctx = { mismatches: [], unknown: [], isPatch, typed: false, kind: info.kind, steps: [] };
  walk(rootOf(info), body, ctx);
  return ctx.unknown;
}

/**
 * Thrown-ready 400 for a body that does not fit its type, worded as kube-apiserver words it
 * (`Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal …`); every mismatch is
 * a cause naming its precise field.
 */
export function typeError(info: Pick<ResourceInfo, 'group' | 'version' | 'kind'>, name: string | undefined, mismatches: readonly TypeMismatch[]): ApiError {
  const causes: StatusCause[] = mismatches.map((m) => ({ reason: 'FieldValueInvalid', message: m.message, field: m.field }));
  return new ApiError('BadRequest', `${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}: ${mismatches[0]?.message ?? 'invalid object'}`, {
    ...(name ? { name } : {}),
    kind: info.kind,
    group: info.group,
    causes,
  });
}
