/**
 * networking.k8s.io: IngressClass and Ingress (Kubernetes' pkg/registry/networking/ingressclass and
 * .../ingress, pkg/apis/networking/validation). The ingress controller (`ingress` component) acts on them;
 * the apiserver defaults, validates, admits the default class and prints them.
 */
import { PRINTERS } from '../../api/tables.js';
import type { KObject, networking } from '../../api/types.js';
import type { Strategy } from '../strategy.js';
import { add, validateDns1123Label, validateDns1123Subdomain, validatePort, type Causes } from '../validation.js';

interface IngressClassSpec {
  controller?: string;
  parameters?: { apiGroup?: string; kind?: string; name?: string; scope?: string; namespace?: string };
}

const spec = (obj: KObject): IngressClassSpec => (obj.spec as IngressClassSpec | undefined) ?? {};

/** Kubernetes' IsDomainPrefixedPath: `acme.io/ingress-controller`. */
function validateDomainPrefixedPath(c: Causes, field: string, v: string | undefined): void {
  if (!v) return add(c, field, 'Required value', 'FieldValueRequired');
  if (v.length > 250) add(c, field, 'Too long: may not be more than 250 bytes', 'FieldValueTooLong');
  const slash = v.indexOf('/');
  if (slash <= 0 || slash === v.length - 1) return add(c, field, `Invalid value: "${v}": must be a domain-prefixed path (such as "acme.io/foo")`);
  validateDns1123Subdomain(c, field, v.slice(0, slash));
  const path = v.slice(slash + 1);
  if (!/^[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/.test(path)) add(c, field, `Invalid value: "${path}": must be a valid path`);
}

export const ingressclasses: Strategy = {
  validate(obj) {
    const c: Causes = [];
    const s = spec(obj);
    validateDomainPrefixedPath(c, 'spec.controller', s.controller);
    const p = s.parameters;
    if (p) {
      if (!p.kind) add(c, 'spec.parameters.kind', 'Required value', 'FieldValueRequired');
      if (!p.name) add(c, 'spec.parameters.name', 'Required value', 'FieldValueRequired');
      if (p.apiGroup) validateDns1123Subdomain(c, 'spec.parameters.apiGroup', p.apiGroup);
      if (p.scope !== undefined && p.scope !== 'Cluster' && p.scope !== 'Namespace')
        add(c, 'spec.parameters.scope', `Unsupported value: "${p.scope}": supported values: "Cluster", "Namespace"`, 'FieldValueNotSupported');
      if (p.scope === 'Namespace' && !p.namespace) add(c, 'spec.parameters.namespace', 'Required value: `parameters.scope` is set to `Namespace`', 'FieldValueRequired');
      if (p.scope === 'Cluster' && p.namespace) add(c, 'spec.parameters.namespace', 'Forbidden: `parameters.scope` is set to `Cluster`', 'FieldValueForbidden');
    }
    return c;
  },
  // The controller that serves a class is chosen once (Kubernetes' ValidateIngressClassUpdate).
  validateUpdate(next, cur) {
    const c: Causes = [];
    const was = spec(cur).controller;
    const now = spec(next).controller;
    if (now !== was) add(c, 'spec.controller', `Invalid value: "${now ?? ''}": field is immutable`);
    return c;
  },
  columns: [
    { name: 'Controller', type: 'string', cell: (o: KObject) => spec(o).controller ?? '' },
    {
      name: 'Parameters',
      type: 'string',
      cell: (o: KObject) => {
        const p = spec(o).parameters;
        if (!p) return '<none>';
        return `${p.apiGroup ? `${p.kind}.${p.apiGroup}` : p.kind}/${p.name}`;
      },
    },
  ],
};

/** The annotation that makes an IngressClass the default (Kubernetes' DefaultIngressClass admission). */
export const DEFAULT_INGRESS_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Host of a rule or TLS entry: a DNS-1123 subdomain, optionally `*.` + one (ValidateIngressSpec). */
function validateIngressHost(c: Causes, field: string, host: string): void {
  if (IPV4.test(host) || host.includes(':')) return add(c, field, `Invalid value: "${host}": must be a DNS name, not an IP address`);
  if (host.startsWith('*.')) {
    const rest = host.slice(2);
    if (rest.length > 253 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(rest))
      add(c, field, `Invalid value: "${host}": a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`);
    return;
  }
  validateDns1123Subdomain(c, field, host);
}

const INVALID_PATH_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_PATH_SUFFIXES = ['/..', '/.'];

/** validateHTTPIngressPath: Exact and Prefix paths are absolute and normalized; any path is absolute. */
function validatePath(c: Causes, field: string, p: networking.HTTPIngressPath): void {
  const type = p.pathType;
  const path = p.path ?? '';
  if (type === undefined) return add(c, `${field}.pathType`, 'Required value: pathType must be specified', 'FieldValueRequired');
  if (type === 'Exact' || type === 'Prefix') {
    if (!path.startsWith('/')) add(c, `${field}.path`, `Invalid value: "${path}": must be an absolute path`);
    else if (INVALID_PATH_SEQUENCES.some((s) => path.includes(s))) add(c, `${field}.path`, `Invalid value: "${path}": must not contain '${INVALID_PATH_SEQUENCES.find((s) => path.includes(s)) ?? ''}'`);
    else if (INVALID_PATH_SUFFIXES.some((s) => path.endsWith(s))) add(c, `${field}.path`, `Invalid value: "${path}": cannot end with '${INVALID_PATH_SUFFIXES.find((s) => path.endsWith(s)) ?? ''}'`);
  } else if (type === 'ImplementationSpecific') {
    if (path !== '' && !path.startsWith('/')) add(c, `${field}.path`, `Invalid value: "${path}": must be an absolute path`);
  } else {
    add(c, `${field}.pathType`, `Unsupported value: "${String(type)}": supported values: "Exact", "ImplementationSpecific", "Prefix"`, 'FieldValueNotSupported');
  }
}

/** validateIngressBackend: exactly one of service and resource; a service has a name and one port. */
function validateBackend(c: Causes, field: string, b: networking.IngressBackend): void {
  const svc = b.service;
  if (svc && b.resource) return add(c, field, 'Invalid value: cannot set both resource and service backends');
  if (b.resource) {
    if (!b.resource.kind) add(c, `${field}.resource.kind`, 'Required value', 'FieldValueRequired');
    if (!b.resource.name) add(c, `${field}.resource.name`, 'Required value', 'FieldValueRequired');
    return;
  }
  if (!svc) return add(c, field, 'Invalid value: resource or service backend is required');
  if (!svc.name) add(c, `${field}.service.name`, 'Required value', 'FieldValueRequired');
  else validateDns1123Label(c, `${field}.service.name`, svc.name);
  const port = svc.port;
  const hasName = port?.name !== undefined && port.name !== '';
  const hasNumber = port?.number !== undefined && port.number !== 0;
  if (hasName && hasNumber) add(c, `${field}.service.port`, 'Invalid value: cannot set both port name & port number');
  else if (hasName) {
    const n = port.name ?? '';
    if (n.length > 15 || !IANA_SVC_NAME.test(n) || !/[a-z]/.test(n) || n.includes('--'))
      add(c, `${field}.service.port.name`, `Invalid value: "${n}": must be an IANA_SVC_NAME (at most 15 characters, matching regex [a-z0-9]([a-z0-9-]*[a-z0-9])*, it must contain at least one letter [a-z], and hyphens cannot be adjacent to other hyphens)`);
  } else if (hasNumber) validatePort(c, `${field}.service.port.number`, port.number);
  else add(c, `${field}.service.port`, 'Invalid value: port name or number is required');
}

const ingSpec = (obj: KObject): networking.IngressSpec => (obj.spec as networking.IngressSpec | undefined) ?? {};

export const ingresses: Strategy = {
  // SetDefaults_HTTPIngressPath: a path without a type is ImplementationSpecific.
  defaults(obj) {
    for (const rule of ingSpec(obj).rules ?? [])
      for (const p of rule.http?.paths ?? []) if (p.pathType === undefined) (p as { pathType?: string }).pathType = 'ImplementationSpecific';
  },
  validate(obj) {
    const c: Causes = [];
    const s = ingSpec(obj);
    if (!s.defaultBackend && !s.rules?.length) add(c, 'spec', 'Invalid value: either `defaultBackend` or `rules` must be specified');
    if (s.ingressClassName !== undefined) validateDns1123Subdomain(c, 'spec.ingressClassName', s.ingressClassName);
    if (s.defaultBackend) validateBackend(c, 'spec.defaultBackend', s.defaultBackend);
    (s.rules ?? []).forEach((rule, i) => {
      const f = `spec.rules[${i}]`;
      if (rule.host) validateIngressHost(c, `${f}.host`, rule.host);
      if (!rule.http) return;
      if (!rule.http.paths?.length) return add(c, `${f}.http.paths`, 'Required value', 'FieldValueRequired');
      rule.http.paths.forEach((p, j) => {
        validatePath(c, `${f}.http.paths[${j}]`, p);
        validateBackend(c, `${f}.http.paths[${j}].backend`, p.backend);
      });
    });
    (s.tls ?? []).forEach((t, i) => {
      (t.hosts ?? []).forEach((h, j) => validateIngressHost(c, `spec.tls[${i}].hosts[${j}]`, h));
      if (t.secretName) validateDns1123Subdomain(c, `spec.tls[${i}].secretName`, t.secretName);
    });
    const ann = obj.metadata?.annotations?.[LEGACY_CLASS_ANNOTATION];
    if (ann !== undefined && s.ingressClassName !== undefined && ann !== s.ingressClassName)
      add(c, `metadata.annotations[${LEGACY_CLASS_ANNOTATION}]`, `Invalid value: "${ann}": must match \`ingressClassName\` if both are specified`);
    return c;
  },
  // Kubernetes' DefaultIngressClass admission: an Ingress with neither a class name nor the legacy
  // annotation gets the default class; with several defaults, the newest (ties: the first name), as upstream's getDefaultClass.
  admit(obj, ctx) {
    const s = obj.spec as networking.IngressSpec | undefined;
    if (!s || s.ingressClassName !== undefined || obj.metadata?.annotations?.[LEGACY_CLASS_ANNOTATION] !== undefined) return;
    const defaults = ctx
      .cachedList('ingressclasses')
      .filter((ic) => ic.metadata?.annotations?.[DEFAULT_INGRESS_CLASS_ANNOTATION] === 'true')
      .sort(
        (a, b) =>
          String(b.metadata?.creationTimestamp ?? '').localeCompare(String(a.metadata?.creationTimestamp ?? '')) ||
          String(a.metadata?.name ?? '').localeCompare(String(b.metadata?.name ?? '')),
      );
    const name = defaults[0]?.metadata?.name;
    if (name) (s as { ingressClassName?: string }).ingressClassName = name;
  },
  columns: PRINTERS.ingresses,
};
