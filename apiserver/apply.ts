/**
 * Field ownership for server-side apply, as pure functions over `metadata.managedFields`.
 *
 * A simplification of Kubernetes' structured-merge-diff: maps are walked key by key, while lists and
 * scalars are owned whole (Kubernetes also tracks associative-list items by key). Ownership is recorded
 * for Apply operations only; plain updates (PUT/PATCH) do not take fields over.
 *   - a field in the applied configuration that another manager owns and whose live value differs is a
 *     conflict (409, naming the manager and the field), unless `force` moves it to the applier;
 *   - the applier's entry becomes exactly the fields of its configuration; a field it owned before and
 *     dropped now is removed from the object when no other manager owns it.
 */
import { isDeepStrictEqual } from 'node:util';
import { ApiError } from '../api/errors.js';

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

/** A field as its path of map keys. */
type FieldPath = string[];

/** Fields the server owns or that identify the object: never part of anyone's ownership. */
const IGNORED = new Set(['apiVersion', 'kind', 'status', 'metadata.name', 'metadata.namespace', 'metadata.uid', 'metadata.resourceVersion',
  'metadata.generation', 'metadata.creationTimestamp', 'metadata.deletionTimestamp', 'metadata.managedFields', 'metadata.selfLink']);

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const key = (p: FieldPath): string => JSON.stringify(p);
export const displayPath = (p: FieldPath): string => p.map((k) => `.${k}`).join('');

/** The leaf fields of an applied configuration (an empty map counts as a field of its own). */
export function fieldsOf(obj: unknown, prefix: FieldPath = []): FieldPath[] {
  const out: FieldPath[] = [];
  if (!isMap(obj)) return out;
  for (const [k, v] of Object.entries(obj)) {
    const p = [...prefix, k];
    if (IGNORED.has(p.join('.'))) continue;
    if (isMap(v) && Object.keys(v).length > 0) out.push(...fieldsOf(v, p));
    else out.push(p);
  }
  return out;
}

/** FieldsV1 (`{"f:data":{"f:key":{}}}`) of a set of fields. */
export function toFieldsV1(fields: FieldPath[]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const p of fields) {
    let node = root;
    for (const k of p) {
      const child = (node[`f:${k}`] ??= {}) as Record<string, unknown>;
      node = child;
    }
  }
  return root;
}

/** The leaf fields named by a FieldsV1 tree (`.` entries and non-`f:` keys are not fields). */
export function fromFieldsV1(tree: unknown, prefix: FieldPath = []): FieldPath[] {
  if (!isMap(tree)) return [];
  const out: FieldPath[] = [];
  for (const [k, v] of Object.entries(tree)) {
    if (!k.startsWith('f:')) continue;
    const p = [...prefix, k.slice(2)];
    const below = fromFieldsV1(v, p);
    if (below.length) out.push(...below);
    else out.push(p);
  }
  return out;
}

function valueAt(obj: unknown, p: FieldPath): unknown {
  let v: unknown = obj;
  for (const k of p) {
    if (!isMap(v)) return undefined;
    v = v[k];
  }
  return v;
}

/** A field owned by `owned` covers `p` when one is a prefix of the other (a map and its keys). */
const overlaps = (a: FieldPath, b: FieldPath): boolean => a.slice(0, Math.min(a.length, b.length)).every((k, i) => k === b[i]);

export interface ApplyPlan {
  /** The object's managedFields after the apply. */
  managedFields: ManagedFieldsEntry[];
  /** Fields to remove from the object: dropped by the applier, owned by nobody else. */
  removed: FieldPath[];
}

/**
 * Plans an apply of `config` by `manager` over the live object (undefined: it is being created).
 * Throws Conflict (409) listing every conflicting field and its manager, unless `force`.
 */
export function planApply(live: Record<string, unknown> | undefined, config: Record<string, unknown>, manager: string, force: boolean, apiVersion: string, now: Date): ApplyPlan {
  const current = ((isMap(live?.metadata) ? (live.metadata as { managedFields?: unknown }).managedFields : undefined) ?? []) as ManagedFieldsEntry[];
  const applied = fieldsOf(config);
  const conflicts: { manager: string; path: FieldPath }[] = [];
  const others = current
    .filter((e) => !(e.manager === manager && e.operation === 'Apply'))
    .map((e) => ({ entry: e, fields: fromFieldsV1(e.fieldsV1) }));
  for (const o of others) {
    for (const f of o.fields) {
      const mine = applied.find((a) => overlaps(a, f));
      if (mine && !isDeepStrictEqual(valueAt(live, f), valueAt(config, f))) conflicts.push({ manager: o.entry.manager ?? '', path: f });
    }
  }
  if (conflicts.length && !force) {
    const list = conflicts.map((c) => `conflict with "${c.manager}": ${displayPath(c.path)}`);
    throw new ApiError(
      'Conflict',
      conflicts.length === 1 ? `Apply failed with 1 conflict: ${list[0]}` : `Apply failed with ${conflicts.length} conflicts: ${list.join('\n')}`,
      { causes: conflicts.map((c) => ({ type: 'FieldManagerConflict', message: `conflict with "${c.manager}"`, field: displayPath(c.path) })) },
    );
  }
  // With force the applier takes its fields over: others keep only what the applier does not set.
  const kept = others
    .map((o) => ({ ...o, fields: force ? o.fields.filter((f) => !applied.some((a) => overlaps(a, f))) : o.fields }))
    .filter((o) => o.fields.length > 0);
  const before = current.find((e) => e.manager === manager && e.operation === 'Apply');
  const appliedKeys = new Set(applied.map(key));
  const removed = fromFieldsV1(before?.fieldsV1).filter((f) => !appliedKeys.has(key(f)) && !applied.some((a) => overlaps(a, f)) && !kept.some((o) => o.fields.some((g) => overlaps(g, f))));
  const mine: ManagedFieldsEntry = { manager, operation: 'Apply', apiVersion, time: now.toISOString().replace(/\.\d+Z$/, 'Z'), fieldsType: 'FieldsV1', fieldsV1: toFieldsV1(applied) };
  return { managedFields: [...kept.map((o) => ({ ...o.entry, fieldsV1: toFieldsV1(o.fields) })), mine], removed };
}

/** The strategic-merge patch body for an apply: the configuration, the new managedFields, nulls for removed fields. */
export function applyPatchBody(config: Record<string, unknown>, plan: ApplyPlan): Record<string, unknown> {
  const body = structuredClone(config);
  for (const p of plan.removed) {
    let node: Record<string, unknown> = body;
    for (const k of p.slice(0, -1)) {
      if (!isMap(node[k])) node[k] = {};
      node = node[k] as Record<string, unknown>;
    }
    node[p[p.length - 1]] = null;
  }
  body.metadata = { ...(isMap(body.metadata) ? body.metadata : {}), managedFields: plan.managedFields };
  return body;
}
