/**
 * The three PATCH flavours: JSON merge patch (RFC 7386), JSON patch (RFC 6902, fast-json-patch) and
 * strategic merge patch for the list fields Kubernetes merges by key (containers by name, ports by
 * containerPort, env by name, volumes by name, …), including `$patch: delete/replace` and
 * `$setElementOrder` (ignored) directives.
 */
import fjp from 'fast-json-patch';
import { ApiError, badRequest } from '../client/errors.js';

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

export function jsonPatch(target: Json, patch: Json): Json {
  if (!Array.isArray(patch)) throw badRequest('json patch must be an array of operations');
  try {
    return fjp.applyPatch(structuredClone(target), patch as never, true, false).newDocument as Json;
  } catch (err) {
    throw invalidPatch(err);
  }
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
      if (Array.isArray(cur) && Array.isArray(v)) out[name] = cur.filter((x) => !v.includes(x));
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
    if (field === 'finalizers') return [...cur, ...patch.filter((p) => !cur.includes(p))];
    return patch;
  }
  const out = [...cur];
  for (const p of patch) {
    if (!isObj(p)) continue;
    const idx = out.findIndex((c) => isObj(c) && c[key] === p[key]);
    if (p.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = strategicMergePatch(out[idx], p, field);
    else out.push(strategicMergePatch(null, p, field));
  }
  return out;
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
