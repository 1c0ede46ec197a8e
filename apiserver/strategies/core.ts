/**
 * The core group's data kinds (namespaces, nodes, endpoints, configmaps, secrets, serviceaccounts, events,
 * persistent volumes and claims). Pods and Services, which do more, have their own files.
 */
import { isIP } from 'node:net';
import { ApiError } from '../../api/errors.js';
import type { KObject, core } from '../../api/types.js';
import { PRINTERS } from '../../api/tables.js';
import type { Strategy } from '../strategy.js';
import { add, base64Error, dataBytes, MAX_DATA_BYTES, validateDns1123Label, validatePathSegmentName, validQuantityMap, type Causes } from '../validation.js';

/** Namespaces the cluster runs on (leases, kube-dns, the kubernetes Service): created at start, never deleted. */
export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

const namespaceFinalizers = (obj: KObject): number => (obj.spec as core.NamespaceSpec | undefined)?.finalizers?.length ?? 0;

export const namespaces: Strategy = {
  validateName: validateDns1123Label,
  defaults(obj) {
    obj.spec = { finalizers: ['kubernetes'], ...((obj.spec as object | undefined) ?? {}) };
    obj.status = { phase: 'Active', ...((obj.status as object | undefined) ?? {}) };
  },
  tracksGeneration: false,
  // Kubernetes' NamespaceLifecycle admission.
  admitDelete(name) {
    if (SYSTEM_NAMESPACES.includes(name)) return new ApiError('Forbidden', `namespaces "${name}" is forbidden: this namespace may not be deleted`, { name, kind: 'namespaces' });
    return undefined;
  },
  // The namespace controller empties the namespace, then clears spec.finalizers through namespaces/finalize.
  deletionPending: (obj) => namespaceFinalizers(obj) > 0,
  deletionComplete: (obj) => namespaceFinalizers(obj) === 0,
  prepareForDelete(obj) {
    obj.status = { ...(obj.status as object), phase: 'Terminating' };
  },
  mergeSubresources: {
    finalize(cur, incoming) {
      const next = structuredClone(cur);
      next.spec = { ...(next.spec as object), finalizers: (incoming.spec as { finalizers?: string[] } | undefined)?.finalizers ?? [] };
      return next;
    },
  },
  columns: PRINTERS.namespaces,
};

export const nodes: Strategy = {
  validateName: validatePathSegmentName,
  tracksGeneration: false,
  // The kubelet registers a node with its status in one write, and kubectl's updates keep it; an update
  // without a status keeps the stored one.
  prepareForUpdate(next, cur) {
    if (next.status === undefined) next.status = cur.status;
  },
  validate(obj) {
    const c: Causes = [];
    validQuantityMap(c, 'status.capacity', (obj.status as core.NodeStatus | undefined)?.capacity as Record<string, unknown>);
    return c;
  },
  columns: PRINTERS.nodes,
};

export const endpoints: Strategy = {
  validate(obj) {
    const c: Causes = [];
    ((obj.subsets ?? []) as core.EndpointSubset[]).forEach((s, i) => {
      for (const list of ['addresses', 'notReadyAddresses'] as const)
        (s[list] ?? []).forEach((a, j) => {
          if (isIP(a.ip) === 0) add(c, `subsets[${i}].${list}[${j}].ip`, `Invalid value: ${JSON.stringify(a.ip)}: must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`);
        });
    });
    return c;
  },
  columns: PRINTERS.endpoints,
};

/** ConfigMap and Secret keys; `bytesField` holds base64 (a Go []byte in JSON). */
function validateDataKeys(obj: KObject, bytesField: 'data' | 'binaryData'): Causes {
  const c: Causes = [];
  for (const k of Object.keys({ ...(obj.data as object), ...(obj.binaryData as object), ...(obj.stringData as object) }))
    if (!/^[-._a-zA-Z0-9]+$/.test(k) || k.length > 253) add(c, `data[${k}]`, `Invalid value: "${k}": a valid config key must consist of alphanumeric characters, '-', '_' or '.'`);
  for (const [k, v] of Object.entries((obj[bytesField] ?? {}) as Record<string, string>)) {
    const bad = base64Error(v);
    if (bad >= 0) add(c, `${bytesField}[${k}]`, `Invalid value: "<redacted>": illegal base64 data at input byte ${bad}`);
  }
  const isSecret = bytesField === 'data';
  if (dataBytes(obj, isSecret) > MAX_DATA_BYTES) add(c, isSecret ? 'data' : '', `Too long: must have at most ${MAX_DATA_BYTES} bytes`, 'FieldValueTooLong');
  return c;
}

export const configmaps: Strategy = {
  validate: (obj) => validateDataKeys(obj, 'binaryData'),
  columns: PRINTERS.configmaps,
};

export const secrets: Strategy = {
  defaults(obj) {
    obj.type ??= 'Opaque';
    mergeStringData(obj);
  },
  validate: (obj) => validateDataKeys(obj, 'data'),
  columns: PRINTERS.secrets,
};

/**
 * Kubernetes' Secret conversion: `stringData` is a write-only convenience, merged into `data`
 * (base64, overriding a key of the same name) and never stored or returned.
 */
function mergeStringData(obj: KObject): void {
  const stringData = obj.stringData as Record<string, string> | undefined;
  delete obj.stringData;
  if (!stringData || Object.keys(stringData).length === 0) return;
  const data = { ...(obj.data as Record<string, string> | undefined) };
  for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(v, 'utf8').toString('base64');
  obj.data = data;
}

export const serviceaccounts: Strategy = {
  columns: PRINTERS.serviceaccounts,
  // The TokenRequest API: a bound, expiring token for the account (apiserver/auth/tokenrequest.ts).
  createSubresources: { token: (ctx, namespace, name, body) => ctx.issueToken(namespace, name, body) },
};

export const events: Strategy = {
  validateName: validatePathSegmentName,
  // Controllers still report on the objects of a namespace being emptied.
  createInTerminatingNamespace: true,
  columns: PRINTERS.events,
};

export const persistentvolumes: Strategy = {
  defaults(obj) {
    const s = obj.spec as core.PersistentVolumeSpec | undefined;
    if (s) {
      s.persistentVolumeReclaimPolicy ??= 'Retain';
      s.volumeMode ??= 'Filesystem';
    }
    obj.status ??= { phase: 'Pending' };
  },
  validate(obj) {
    const c: Causes = [];
    const s = obj.spec as core.PersistentVolumeSpec | undefined;
    if (!s?.capacity?.storage) add(c, 'spec.capacity', 'Required value', 'FieldValueRequired');
    if (!s?.accessModes?.length) add(c, 'spec.accessModes', 'Required value', 'FieldValueRequired');
    return c;
  },
  columns: PRINTERS.persistentvolumes,
};

export const persistentvolumeclaims: Strategy = {
  defaults(obj) {
    const s = obj.spec as core.PersistentVolumeClaimSpec | undefined;
    if (s) s.volumeMode ??= 'Filesystem';
    obj.status ??= { phase: 'Pending' };
  },
  validate(obj) {
    const c: Causes = [];
    const s = obj.spec as core.PersistentVolumeClaimSpec | undefined;
    if (!s?.accessModes?.length) add(c, 'spec.accessModes', 'Required value: at least 1 access mode is required', 'FieldValueRequired');
    if (!s?.resources?.requests?.storage) add(c, 'spec.resources[storage]', 'Required value', 'FieldValueRequired');
    else validQuantityMap(c, 'spec.resources.requests', s.resources.requests as Record<string, unknown>);
    return c;
  },
  // Kubernetes' DefaultStorageClass admission: a claim without a class gets the default one.
  admit(obj, ctx) {
    const spec = obj.spec as core.PersistentVolumeClaimSpec;
    if (spec.storageClassName !== undefined) return;
    const def = ctx.cachedList('storageclasses').find((sc) => sc.metadata?.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true');
    if (def) spec.storageClassName = def.metadata?.name;
  },
  columns: PRINTERS.persistentvolumeclaims,
};
