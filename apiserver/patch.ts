/**
 * The three PATCH flavours: JSON merge patch (RFC 7386), JSON patch (RFC 6902, fast-json-patch) and
 * strategic merge patch for the list fields Kubernetes merges by key (containers by name, ports by
 * containerPort, env by name, volumes by name, …), including `$patch: delete/replace` and
 * `$setElementOrder` (ignored) directives.
 */
import fjp from 'fast-json-patch';
import { ApiError, badRequest } from '../api/errors.js';
import { MAX_OBJECT_BYTES } from './validation.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObj = { [k: string]: Json };

const isObj = (v: unknown): v is JsonObj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function mergePatch(target: Json, patch: Json): Json {
  if (!isObj(patch)) return patch;
  const out: JsonObj = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k] ?? null, v);
  }
  return out;
}

/** Kubernetes' cap on the operations of one JSON patch (maxJSONPatchOperations). */
export const MAX_JSON_PATCH_OPERATIONS = 10_000;
/**
 * Bytes that `copy` (and `move` over an existing value) may duplicate in one patch (Kubernetes bounds
 * this too, its AccumulatedCopySizeLimit): without it, a few dozen self-copies double a document into
 * gigabytes. The object limit is enough, since no stored object may be larger.
 */
export const JSON_PATCH_COPY_BUDGET_BYTES = MAX_OBJECT_BYTES;

const OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

type Op = { op: string; path: string; from?: string; value?: Json };

/** Checks the shape of every operation before any is applied (one pass over the patch). */
function checkOperations(patch: Json): Op[] {
  if (!Array.isArray(patch)) throw badRequest('json patch must be an array of operations');
  if (patch.length > MAX_JSON_PATCH_OPERATIONS)
    throw new ApiError('RequestEntityTooLarge', `The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${patch.length}`);
  return patch.map((op, i) => {
    const bad = (why: string): never => {
      throw invalidPatch(new Error(`operation ${i}: ${why}`));
    };
    if (!isObj(op)) return bad('is not an object');
    if (typeof op.op !== 'string' || !OPS.has(op.op)) return bad('"op" must be one of add, remove, replace, move, copy, test');
    if (typeof op.path !== 'string' || (op.path !== '' && op.path[0] !== '/')) return bad('"path" must be a JSON pointer ("" or starting with "/")');
    if ((op.op === 'move' || op.op === 'copy') && (typeof op.from !== 'string' || (op.from !== '' && op.from[0] !== '/')))
      return bad(`"from" must be a JSON pointer for ${op.op}`);
    if ((op.op === 'add' || op.op === 'replace' || op.op === 'test') && !('value' in op)) return bad(`"value" is required for ${op.op}`);
    return op as Op;
  });
}

/** Reads a JSON pointer in one pass over its segments; `found` is false when any segment is missing. */
function resolvePointer(doc: Json, pointer: string): { found: boolean; value?: Json } {
  if (pointer === '') return { found: true, value: doc };
  let cur: Json = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.includes('~') ? raw.replace(/~1/g, '/').replace(/~0/g, '~') : raw;
    if (Array.isArray(cur) && /^(0|[1-9][0-9]{0,9})$/.test(key) && Number(key) < cur.length) cur = cur[Number(key)];
    else if (isObj(cur) && Object.hasOwn(cur, key)) cur = cur[key];
    else return { found: false };
  }
  return { found: true, value: cur };
}

/**
 * fast-json-patch's own check of a move/copy `from` clones the whole document per operation
 * (quadratic in the patch); `from` is resolved here instead, and every other check is the library's.
 */
const validateOperation: fjp.Validator<Json> = (operation, index, document, existingPath) => {
  if (operation.op === 'move' || operation.op === 'copy') fjp.validator(operation, index);
  else fjp.validator(operation, index, document, existingPath);
};

export function jsonPatch(target: Json, patch: Json): Json {
  const ops = checkOperations(patch);
  let doc = structuredClone(target);
  let copied = 0;
  const spend = (value: Json | undefined): void => {
    copied += value === undefined ? 0 : JSON.stringify(value).length;
    if (copied > JSON_PATCH_COPY_BUDGET_BYTES)
      throw new ApiError('RequestEntityTooLarge', `Unable to complete the patch: the values it copies add up to more than ${JSON_PATCH_COPY_BUDGET_BYTES} bytes`);
  };
  for (const [i, op] of ops.entries()) {
    try {
      if (op.op === 'move' || op.op === 'copy') {
        const from = resolvePointer(doc, op.from ?? '');
        if (!from.found) throw new Error(`Cannot perform the operation from a path that does not exist (${op.from})`);
        if (op.op === 'copy') spend(from.value);
        else spend(resolvePointer(doc, op.path).value); // a move over an existing value clones that value
      }
      doc = fjp.applyOperation(doc, op as fjp.Operation, validateOperation, true, true, i).newDocument;
    } catch (err) {
      if (err instanceof ApiError) throw err;
      if (err instanceof fjp.JsonPatchError && err.name === 'TEST_OPERATION_FAILED') throw invalidPatch(new Error(`operation ${i}: test failed at ${op.path}`));
      throw invalidPatch(new Error(`operation ${i} (${op.op} ${op.path.slice(0, 256)}): ${(err as Error).message}`));
    }
  }
  return doc;
}

function invalidPatch(err: unknown): Error {
  return new ApiError('Invalid', `the server rejected our request due to an error in our request: ${(err as Error).message}`);
}

/** Merge keys of the list fields Kubernetes merges by key (by field name, wherever they appear). */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  conditions: 'type',
  ownerReferences: 'uid',
  topologySpreadConstraints: 'topologyKey',
  tolerations: '',
  finalizers: '',
};

/** Service ports merge by `port`, container ports by `containerPort`. */
function mergeKeyFor(field: string, items: Json[]): string | undefined {
  if (field === 'ports') {
    const first = items.find(isObj);
    if (first && 'port' in first && !('containerPort' in first)) return 'port';
  }
  return MERGE_KEYS[field];
}

export function strategicMergePatch(target: Json, patch: Json, field = ''): Json {
  if (!isObj(patch)) return patch;
  if (patch.$patch === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return rest;
  }
  if (patch.$patch === 'delete') return null;
  const out: JsonObj = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$setElementOrder/') || k === '$retainKeys') continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const name = k.slice('$deleteFromPrimitiveList/'.length);
      const cur = out[name];
      if (Array.isArray(cur) && Array.isArray(v)) {
        const drop = new Set(v);
        out[name] = cur.filter((x) => !drop.has(x));
      }
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    const cur = out[k];
    if (Array.isArray(v)) {
      const key = mergeKeyFor(k, [...v, ...(Array.isArray(cur) ? cur : [])]);
      out[k] = key === undefined ? v.filter((x) => !(isObj(x) && x.$patch)) : mergeList(Array.isArray(cur) ? cur : [], v, key, k);
    } else if (isObj(v)) {
      out[k] = strategicMergePatch(cur ?? null, v, k);
    } else out[k] = v;
  }
  void field;
  return out;
}

function mergeList(cur: Json[], patch: Json[], key: string, field: string): Json[] {
  if (patch.some((p) => isObj(p) && p.$patch === 'replace')) return patch.filter((p) => !(isObj(p) && p.$patch === 'replace'));
  if (key === '') {
    // Primitive or unkeyed list: union (finalizers) / replace (tolerations) as Kubernetes does.
    if (field === 'finalizers') {
      const have = new Set(cur);
      return [...cur, ...patch.filter((p) => !have.has(p))];
    }
    return patch;
  }
  // Items are found by merge key through an index (first match first, as a scan would find them), so
  // a patch of n items against a list of m costs O(n + m), not O(n·m).
  const DELETED = Symbol('deleted');
  const out: (Json | typeof DELETED)[] = [...cur];
  const positions = new Map<Json | undefined, number[]>();
  const remember = (k: Json | undefined, i: number): void => {
    const list = positions.get(k);
    if (list) list.push(i);
    else positions.set(k, [i]);
  };
  cur.forEach((c, i) => isObj(c) && remember(c[key], i));
  for (const p of patch) {
    if (!isObj(p)) continue;
    const list = positions.get(p[key]);
    const idx = list && list.length > 0 ? list[0] : -1;
    if (p.$patch === 'delete') {
      if (idx >= 0) {
        out[idx] = DELETED;
        list?.shift();
      }
      continue;
    }
    if (idx >= 0) out[idx] = strategicMergePatch(out[idx] as Json, p, field);
    else {
      out.push(strategicMergePatch(null, p, field));
      remember(p[key], out.length - 1);
    }
  }
  return out.filter((x): x is Json => x !== DELETED);
}

export function applyPatch(type: string, target: unknown, patch: unknown): unknown {
  switch (type) {
    case 'merge':
    case 'application/merge-patch+json':
      return mergePatch(target as Json, patch as Json);
    case 'json':
    case 'application/json-patch+json':
      return jsonPatch(target as Json, patch as Json);
    case 'strategic':
    case 'application/strategic-merge-patch+json':
      return strategicMergePatch(target as Json, patch as Json);
    default:
      throw new ApiError('UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got "${type}")`);
  }
}
