/**
 * networking.k8s.io: IngressClass (Kubernetes' pkg/registry/networking/ingressclass). Pure data: kubelab
 * runs no ingress controller, but manifests that ship an IngressClass apply, and controllers that read
 * one find it. This file and its line in client/resources.ts are all it took to serve it
 * (docs/architecture.md, "Adding a resource").
 */
import type { KObject } from '../../client/types.js';
import type { Strategy } from '../strategy.js';
import { add, validateDns1123Subdomain, type Causes } from '../validation.js';

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
