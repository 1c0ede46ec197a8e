/**
 * Validation of API objects. Each check returns causes naming the field path and the reason, in the
 * words Kubernetes uses, so `kubectl` prints familiar messages. Nothing here touches storage.
 */
import { isDeepStrictEqual } from 'node:util';
import type { StatusCause } from '../api/errors.js';
import { isQuantity, MAX_QUANTITY_LENGTH } from '../api/quantity.js';
import type { KObject, core } from '../api/types.js';
import { fromLabelSelector, matchesLabels, SelectorError } from '../api/selectors.js';

export type Causes = StatusCause[];

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

export const MAX_OBJECT_BYTES = 1_572_864; // etcd's default request limit (1.5 MiB)
/** The data of one ConfigMap or Secret (Kubernetes' MaxSecretSize, 1 MiB). */
export const MAX_DATA_BYTES = 1024 * 1024;

/**
 * Payload bytes of a ConfigMap's data + binaryData, or a Secret's decoded data + stringData, as Kubernetes
 * counts them; `dataIsBase64` for a Secret, whose `data` holds base64.
 */
export function dataBytes(obj: KObject, dataIsBase64: boolean): number {
  let total = 0;
  const values = (m: unknown): unknown[] => (m !== null && typeof m === 'object' ? Object.values(m) : []);
  const decoded = (b64: string): number => {
    let end = b64.length;
    while (end > 0 && b64[end - 1] === '=') end--;
    return Math.floor((end * 3) / 4);
  };
  for (const v of values(obj.data)) if (typeof v === 'string') total += dataIsBase64 ? decoded(v) : Buffer.byteLength(v);
  for (const v of values(obj.binaryData)) if (typeof v === 'string') total += decoded(v);
  for (const v of values(obj.stringData)) if (typeof v === 'string') total += Buffer.byteLength(v);
  return total;
}

/** Appends one cause (the Kubernetes field.Error shape). */
export function add(c: Causes, field: string, message: string, reason = 'FieldValueInvalid'): void {
  c.push({ field, message, reason });
}

export function validateDns1123Label(c: Causes, field: string, v: string): void {
  if (v.length > 63) add(c, field, `Invalid value: "${v}": must be no more than 63 characters`);
  else if (!DNS1123_LABEL.test(v))
    add(c, field, `Invalid value: "${v}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`);
}

export function validateDns1123Subdomain(c: Causes, field: string, v: string): void {
  if (v.length > 253) add(c, field, `Invalid value: "${v}": must be no more than 253 characters`);
  else if (!DNS1123_SUBDOMAIN.test(v))
    add(c, field, `Invalid value: "${v}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`);
}

function validateQualifiedKey(c: Causes, field: string, key: string): void {
  const slash = key.lastIndexOf('/');
  const [prefix, name] = slash >= 0 ? [key.slice(0, slash), key.slice(slash + 1)] : ['', key];
  if (slash >= 0) {
    if (prefix.length === 0 || prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))
      add(c, field, `Invalid value: "${key}": prefix part must be a lowercase RFC 1123 subdomain`);
  }
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME.test(name))
    add(c, field, `Invalid value: "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with at most 63 characters`);
}

export function validateLabels(c: Causes, field: string, labels: unknown): void {
  if (labels === undefined || labels === null) return;
  if (typeof labels !== 'object') return add(c, field, 'Invalid value: must be a map of strings', 'FieldValueTypeInvalid');
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    validateQualifiedKey(c, field, k);
    if (typeof v !== 'string') add(c, `${field}.${k}`, 'Invalid value: label values must be strings', 'FieldValueTypeInvalid');
    else if (v.length > 63 || !LABEL_VALUE.test(v))
      add(c, field, `Invalid value: "${v}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?') with at most 63 characters`);
  }
}

export function validateAnnotations(c: Causes, field: string, ann: unknown): void {
  if (ann === undefined || ann === null) return;
  if (typeof ann !== 'object') return add(c, field, 'Invalid value: must be a map of strings', 'FieldValueTypeInvalid');
  let size = 0;
  for (const [k, v] of Object.entries(ann as Record<string, unknown>)) {
    validateQualifiedKey(c, field, k.toLowerCase());
    if (typeof v !== 'string') add(c, `${field}.${k}`, 'Invalid value: annotation values must be strings', 'FieldValueTypeInvalid');
    else size += k.length + v.length;
  }
  if (size > 256 * 1024) add(c, field, `Too long: must have at most 262144 bytes`, 'FieldValueTooLong');
}

/** Kubernetes' path segment name rule (nodes, events, leases): anything that fits in a URL path segment. */
export function validatePathSegmentName(c: Causes, field: string, name: string): void {
  if (name.length > 253 || /[/%]/.test(name) || name === '.' || name === '..') add(c, field, `Invalid value: "${name}": may not contain '/' or '%'`);
}

/** Validates metadata common to every kind; `validateName` is the kind's rule for metadata.name. */
export function validateMeta(c: Causes, obj: KObject, validateName: (c: Causes, field: string, name: string) => void): void {
  const m = obj.metadata;
  if (!m || typeof m !== 'object') return add(c, 'metadata', 'Required value', 'FieldValueRequired');
  if (!m.name) add(c, 'metadata.name', 'Required value: name or generateName is required', 'FieldValueRequired');
  else if (typeof m.name !== 'string') add(c, 'metadata.name', 'Invalid value: must be a string', 'FieldValueTypeInvalid');
  else validateName(c, 'metadata.name', m.name);
  validateLabels(c, 'metadata.labels', m.labels);
  validateAnnotations(c, 'metadata.annotations', m.annotations);
}

export function validQuantityMap(c: Causes, field: string, map: Record<string, unknown> | undefined): void {
  for (const [k, v] of Object.entries(map ?? {})) {
    // The value is echoed cut short: a 1,000,000-digit quantity must not come back as a 2 MB error.
    if (!isQuantity(v)) {
      const text = String(v);
      const shown = text.length > 64 ? `${text.slice(0, 64)}…(${text.length} characters)` : text;
      const why = text.length > MAX_QUANTITY_LENGTH ? `must be no more than ${MAX_QUANTITY_LENGTH} characters` : "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
      add(c, `${field}[${k}]`, `Invalid value: "${shown}": ${why}`);
    }
    else if (typeof v === 'string' && v.trim().startsWith('-')) add(c, `${field}[${k}]`, `Invalid value: "${v}": must be greater than or equal to 0`);
  }
}

export function validatePort(c: Causes, field: string, v: unknown, allowZero = false): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < (allowZero ? 0 : 1) || v > 65535)
    add(c, field, `Invalid value: ${JSON.stringify(v)}: must be between 1 and 65535, inclusive`);
}

function validateProbe(c: Causes, field: string, p: core.Probe | undefined): void {
  if (!p) return;
  const handlers = [p.exec, p.httpGet, p.tcpSocket, p.grpc].filter((h) => h !== undefined).length;
  if (handlers === 0) add(c, field, 'Required value: must specify a handler type', 'FieldValueRequired');
  if (handlers > 1) add(c, field, 'Forbidden: may not specify more than 1 handler type', 'FieldValueForbidden');
  for (const k of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const) {
    const v = p[k];
    if (v !== undefined && (typeof v !== 'number' || v < 0)) add(c, `${field}.${k}`, `Invalid value: ${JSON.stringify(v)}: must be greater than or equal to 0`);
  }
  if (p.httpGet && typeof p.httpGet.port === 'number') validatePort(c, `${field}.httpGet.port`, p.httpGet.port);
  if (p.tcpSocket && typeof p.tcpSocket.port === 'number') validatePort(c, `${field}.tcpSocket.port`, p.tcpSocket.port);
}

/** Which list a container is in: probes are validated for app containers only, forbidden for the others. */
type ContainerKind = 'init' | 'app' | 'ephemeral';

function validateContainer(c: Causes, f: string, ct: core.Container, volumes: Set<string>, names: Set<string>, kind: ContainerKind): void {
  if (!ct || typeof ct !== 'object') return add(c, f, 'Invalid value: must be an object', 'FieldValueTypeInvalid');
  if (!ct.name) add(c, `${f}.name`, 'Required value', 'FieldValueRequired');
  else {
    validateDns1123Label(c, `${f}.name`, ct.name);
    if (names.has(ct.name)) add(c, `${f}.name`, `Duplicate value: "${ct.name}"`, 'FieldValueDuplicate');
    names.add(ct.name);
  }
  if (!ct.image || typeof ct.image !== 'string' || ct.image.trim() === '') add(c, `${f}.image`, 'Required value', 'FieldValueRequired');
  if (ct.imagePullPolicy && !['Always', 'IfNotPresent', 'Never'].includes(ct.imagePullPolicy))
    add(c, `${f}.imagePullPolicy`, `Unsupported value: "${ct.imagePullPolicy}": supported values: "Always", "IfNotPresent", "Never"`, 'FieldValueNotSupported');
  const portNames = new Set<string>();
  (ct.ports ?? []).forEach((p, i) => {
    validatePort(c, `${f}.ports[${i}].containerPort`, p.containerPort);
    if (p.hostPort !== undefined) validatePort(c, `${f}.ports[${i}].hostPort`, p.hostPort, true);
    if (p.protocol && !['TCP', 'UDP', 'SCTP'].includes(p.protocol))
      add(c, `${f}.ports[${i}].protocol`, `Unsupported value: "${p.protocol}": supported values: "SCTP", "TCP", "UDP"`, 'FieldValueNotSupported');
    if (p.name) {
      if (p.name.length > 15 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(p.name) || !/[a-z]/.test(p.name))
        add(c, `${f}.ports[${i}].name`, `Invalid value: "${p.name}": must be no more than 15 characters, contain only lowercase alphanumerics or '-', and at least one letter`);
      if (portNames.has(p.name)) add(c, `${f}.ports[${i}].name`, `Duplicate value: "${p.name}"`, 'FieldValueDuplicate');
      portNames.add(p.name);
    }
  });
  (ct.env ?? []).forEach((e, i) => {
    if (!e.name) add(c, `${f}.env[${i}].name`, 'Required value', 'FieldValueRequired');
    else if (!ENV_NAME.test(e.name)) add(c, `${f}.env[${i}].name`, `Invalid value: "${e.name}": a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit`);
    if (e.value !== undefined && e.valueFrom !== undefined)
      add(c, `${f}.env[${i}].valueFrom`, 'Invalid value: "": may not be specified when `value` is not empty');
  });
  validQuantityMap(c, `${f}.resources.requests`, ct.resources?.requests as Record<string, unknown>);
  validQuantityMap(c, `${f}.resources.limits`, ct.resources?.limits as Record<string, unknown>);
  (ct.volumeMounts ?? []).forEach((m, i) => {
    if (!m.name) add(c, `${f}.volumeMounts[${i}].name`, 'Required value', 'FieldValueRequired');
    else if (!volumes.has(m.name)) add(c, `${f}.volumeMounts[${i}].name`, `Not found: "${m.name}"`, 'FieldValueNotFound');
    if (!m.mountPath) add(c, `${f}.volumeMounts[${i}].mountPath`, 'Required value', 'FieldValueRequired');
  });
  if (kind === 'app') {
    validateProbe(c, `${f}.livenessProbe`, ct.livenessProbe);
    validateProbe(c, `${f}.readinessProbe`, ct.readinessProbe);
    validateProbe(c, `${f}.startupProbe`, ct.startupProbe);
  } else if (kind === 'init' && (ct.livenessProbe || ct.readinessProbe)) {
    add(c, `${f}.livenessProbe`, 'Forbidden: may not be set for init containers without restartPolicy=Always', 'FieldValueForbidden');
  }
}

/**
 * Container fields an ephemeral container may not set, in Kubernetes' field order: it gets no
 * guaranteed resources and serves nothing (Kubernetes keeps an allow-list of the other fields).
 */
export const EPHEMERAL_FORBIDDEN_FIELDS = ['ports', 'resources', 'resizePolicy', 'restartPolicy', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle'] as const;

/** Go's "zero value": unset, or an empty list/object (`resources: {}` is what kubectl sends). */
function isZero(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === false || v === 0) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.values(v as Record<string, unknown>).every(isZero);
  return false;
}

/**
 * spec.ephemeralContainers (Kubernetes' validateEphemeralContainers): the usual container checks, names
 * unique among all containers of the pod (`names` holds the others), a targetContainerName that is a
 * regular or init container, none of EPHEMERAL_FORBIDDEN_FIELDS, no subPath mounts.
 */
function validateEphemeralContainers(c: Causes, f: string, spec: core.PodSpec, volumes: Set<string>, names: Set<string>): void {
  const list = spec.ephemeralContainers;
  if (list === undefined || list === null) return;
  if (!Array.isArray(list)) return add(c, `${f}.ephemeralContainers`, 'Invalid value: must be a list', 'FieldValueTypeInvalid');
  const targets = new Set(names);
  list.forEach((ec, i) => {
    const p = `${f}.ephemeralContainers[${i}]`;
    validateContainer(c, p, ec as core.Container, volumes, names, 'ephemeral');
    if (!ec || typeof ec !== 'object') return;
    if (ec.targetContainerName && !targets.has(ec.targetContainerName)) add(c, `${p}.targetContainerName`, `Not found: "${ec.targetContainerName}"`, 'FieldValueNotFound');
    const fields = ec as unknown as Record<string, unknown>;
    for (const k of EPHEMERAL_FORBIDDEN_FIELDS) if (!isZero(fields[k])) add(c, `${p}.${k}`, 'Forbidden: cannot be set for an Ephemeral Container', 'FieldValueForbidden');
    (ec.volumeMounts ?? []).forEach((m, j) => {
      if (m.subPath) add(c, `${p}.volumeMounts[${j}].subPath`, 'Forbidden: cannot be set for an Ephemeral Container', 'FieldValueForbidden');
      if (m.subPathExpr) add(c, `${p}.volumeMounts[${j}].subPathExpr`, 'Forbidden: cannot be set for an Ephemeral Container', 'FieldValueForbidden');
    });
  });
}

/** Checks only made when a pod is created: ephemeral containers come later, through pods/ephemeralcontainers. */
export function validatePodCreate(pod: KObject): Causes {
  const c: Causes = [];
  const spec = pod.spec as core.PodSpec | undefined;
  if (Array.isArray(spec?.ephemeralContainers) && spec.ephemeralContainers.length > 0)
    add(c, 'spec.ephemeralContainers', 'Forbidden: cannot be set on create', 'FieldValueForbidden');
  return c;
}

const canonical = (v: unknown): unknown => (v === undefined ? undefined : (JSON.parse(JSON.stringify(v)) as unknown));

/**
 * A write through pods/ephemeralcontainers (Kubernetes' ValidatePodEphemeralContainersUpdate): existing
 * ephemeral containers may be neither removed nor changed (only added), and static pods have none.
 * Both pods are already defaulted.
 */
export function validateEphemeralContainersUpdate(next: core.Pod, cur: core.Pod, isMirror: boolean): Causes {
  const c: Causes = [];
  if (isMirror) {
    add(c, '', 'Forbidden: static pods do not support ephemeral containers', 'FieldValueForbidden');
    return c;
  }
  const now = next.spec?.ephemeralContainers ?? [];
  for (const old of cur.spec?.ephemeralContainers ?? []) {
    const i = now.findIndex((e) => e?.name === old.name);
    if (i < 0) add(c, 'spec.ephemeralContainers', `Forbidden: existing ephemeral containers "${old.name}" may not be removed`, 'FieldValueForbidden');
    else if (!isDeepStrictEqual(canonical(old), canonical(now[i])))
      add(c, `spec.ephemeralContainers[${i}]`, `Forbidden: existing ephemeral containers "${old.name}" may not be changed`, 'FieldValueForbidden');
  }
  return c;
}

/** Pod templates (workloads) describe new pods: they may not carry ephemeral containers. */
export function forbidTemplateEphemeral(c: Causes, f: string, spec: core.PodSpec | undefined): void {
  if (Array.isArray(spec?.ephemeralContainers) && spec.ephemeralContainers.length > 0)
    add(c, `${f}.ephemeralContainers`, 'Forbidden: ephemeral containers not allowed in pod template', 'FieldValueForbidden');
}

export function validatePodSpec(
  c: Causes,
  f: string,
  spec: core.PodSpec | undefined,
  restartPolicies = ['Always', 'OnFailure', 'Never'],
  /** Volumes the controller adds (a StatefulSet's volumeClaimTemplates), which mounts may name. */
  extraVolumes: readonly string[] = [],
): void {
  if (!spec || typeof spec !== 'object') return add(c, f, 'Required value', 'FieldValueRequired');
  const volumes = new Set<string>(extraVolumes);
  (spec.volumes ?? []).forEach((v, i) => {
    if (!v.name) add(c, `${f}.volumes[${i}].name`, 'Required value', 'FieldValueRequired');
    else {
      validateDns1123Label(c, `${f}.volumes[${i}].name`, v.name);
      if (volumes.has(v.name)) add(c, `${f}.volumes[${i}].name`, `Duplicate value: "${v.name}"`, 'FieldValueDuplicate');
      volumes.add(v.name);
    }
  });
  if (!Array.isArray(spec.containers) || spec.containers.length === 0) add(c, `${f}.containers`, 'Required value', 'FieldValueRequired');
  const names = new Set<string>();
  (spec.initContainers ?? []).forEach((ct, i) => validateContainer(c, `${f}.initContainers[${i}]`, ct, volumes, names, 'init'));
  (Array.isArray(spec.containers) ? spec.containers : []).forEach((ct, i) => validateContainer(c, `${f}.containers[${i}]`, ct, volumes, names, 'app'));
  validateEphemeralContainers(c, f, spec, volumes, names);
  if (spec.restartPolicy && !restartPolicies.includes(spec.restartPolicy))
    add(c, `${f}.restartPolicy`, `Unsupported value: "${spec.restartPolicy}": supported values: ${restartPolicies.map((p) => `"${p}"`).join(', ')}`, 'FieldValueNotSupported');
  if (spec.dnsPolicy && !['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'].includes(spec.dnsPolicy))
    add(c, `${f}.dnsPolicy`, `Unsupported value: "${spec.dnsPolicy}"`, 'FieldValueNotSupported');
  if (spec.terminationGracePeriodSeconds !== undefined && (spec.terminationGracePeriodSeconds as number) < 0)
    add(c, `${f}.terminationGracePeriodSeconds`, `Invalid value: ${spec.terminationGracePeriodSeconds}: must be greater than or equal to 0`);
  if (spec.hostname) validateDns1123Label(c, `${f}.hostname`, spec.hostname);
  if (spec.subdomain) validateDns1123Label(c, `${f}.subdomain`, spec.subdomain);
  validateLabels(c, `${f}.nodeSelector`, spec.nodeSelector);
  (spec.tolerations ?? []).forEach((t, i) => {
    if (t.operator && !['Exists', 'Equal'].includes(t.operator)) add(c, `${f}.tolerations[${i}].operator`, `Unsupported value: "${t.operator}"`, 'FieldValueNotSupported');
    if (t.effect && !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(t.effect)) add(c, `${f}.tolerations[${i}].effect`, `Unsupported value: "${t.effect}"`, 'FieldValueNotSupported');
  });
}

export function validateReplicas(c: Causes, field: string, v: unknown): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v)) add(c, field, `Invalid value: ${JSON.stringify(v)}: must be an integer`, 'FieldValueTypeInvalid');
  else if (v < 0) add(c, field, `Invalid value: ${v}: must be greater than or equal to 0`);
}

export function validateSelectorAndTemplate(
  c: Causes,
  spec: { selector?: unknown; template?: core.PodTemplateSpec; volumeClaimTemplates?: core.PersistentVolumeClaim[] } | undefined,
  restartPolicies?: string[],
  selectorRequired = true,
): void {
  if (!spec) return add(c, 'spec', 'Required value', 'FieldValueRequired');
  const tpl = spec.template;
  if (selectorRequired && !spec.selector) add(c, 'spec.selector', 'Required value', 'FieldValueRequired');
  else if (spec.selector) {
    try {
      const sel = fromLabelSelector(spec.selector as never);
      if (sel && sel.length === 0 && selectorRequired) add(c, 'spec.selector', 'Invalid value: empty selector is invalid for deployment', 'FieldValueInvalid');
      else if (sel && tpl && !matchesLabels(sel, tpl.metadata?.labels))
        add(c, 'spec.template.metadata.labels', `Invalid value: ${JSON.stringify(tpl.metadata?.labels ?? {})}: \`selector\` does not match template \`labels\``);
    } catch (err) {
      if (err instanceof SelectorError) add(c, 'spec.selector', `Invalid value: ${err.message}`);
      else throw err;
    }
  }
  if (!tpl) return add(c, 'spec.template', 'Required value', 'FieldValueRequired');
  validateLabels(c, 'spec.template.metadata.labels', tpl.metadata?.labels);
  const claims = (spec.volumeClaimTemplates ?? []).map((t) => t.metadata?.name ?? '').filter(Boolean);
  validatePodSpec(c, 'spec.template.spec', tpl.spec, restartPolicies, claims);
  forbidTemplateEphemeral(c, 'spec.template.spec', tpl.spec);
}

export function validateIntOrPercent(c: Causes, field: string, v: unknown): void {
  if (v === undefined) return;
  if (typeof v === 'number') {
    if (v < 0) add(c, field, `Invalid value: ${v}: must be greater than or equal to 0`);
  } else if (typeof v !== 'string' || !/^[0-9]+%$/.test(v)) add(c, field, `Invalid value: ${JSON.stringify(v)}: a valid percent string must be a numeric string followed by an ending '%'`);
}

function isBase64Char(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
}

/**
 * Where Go's base64.StdEncoding stops decoding `v` (the byte offset it reports in "illegal base64
 * data at input byte N"), or -1 when `v` decodes. As in Go, line breaks are skipped and the padding
 * must be complete.
 */
export function base64Error(v: string): number {
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 13 || c === 10) continue;
    if (c === 61) {
      const need = n % 4 === 2 ? 2 : n % 4 === 3 ? 1 : 0;
      if (need === 0) return i;
      let got = 0;
      let j = i;
      for (; j < v.length; j++) {
        const d = v.charCodeAt(j);
        if (d === 13 || d === 10) continue;
        if (d !== 61 || got === need) break;
        got++;
      }
      return got < need || j < v.length ? j : -1;
    }
    if (!isBase64Char(c)) return i;
    n++;
  }
  return n % 4 === 0 ? -1 : v.length;
}

/** User-defined PriorityClasses may not go above this (Kubernetes' HighestUserDefinablePriority). */
export const HIGHEST_USER_PRIORITY = 1_000_000_000;

/** The built-in classes every cluster has, with their values. */
export const SYSTEM_PRIORITY_CLASSES = new Map([
  ['system-node-critical', 2_000_001_000],
  ['system-cluster-critical', 2_000_000_000],
]);
