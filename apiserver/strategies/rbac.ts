/**
 * rbac.authorization.k8s.io: roles and bindings, validated as pkg/apis/rbac/validation does. With
 * --authorization-mode including RBAC, apiserver/auth/ evaluates them for every request and checks
 * writes for escalation; with AlwaysAllow they are stored and restrict nothing.
 */
import type { KObject } from '../../api/types.js';
import { PRINTERS } from '../../api/tables.js';
import type { NameValidator, Strategy } from '../strategy.js';
import { add, type Causes } from '../validation.js';

/** roleRef must name a role of one of `kinds` in the RBAC group. */
function validateRoleRef(obj: KObject, kinds: readonly string[]): Causes {
  const c: Causes = [];
  const ref = obj.roleRef as { apiGroup?: unknown; kind?: unknown; name?: unknown } | undefined;
  if (!ref) {
    add(c, 'roleRef', 'Required value', 'FieldValueRequired');
    return c;
  }
  if (!kinds.includes(ref.kind as string)) add(c, 'roleRef.kind', `Unsupported value: ${JSON.stringify(ref.kind)}: supported values: ${kinds.map((k) => `"${k}"`).join(', ')}`, 'FieldValueNotSupported');
  if (ref.apiGroup !== 'rbac.authorization.k8s.io') add(c, 'roleRef.apiGroup', `Unsupported value: ${JSON.stringify(ref.apiGroup)}: supported values: "rbac.authorization.k8s.io"`, 'FieldValueNotSupported');
  if (typeof ref.name !== 'string' || ref.name === '') add(c, 'roleRef.name', 'Required value', 'FieldValueRequired');
  return c;
}

/** ValidatePolicyRule for every rule; `namespaced` roles may not carry non-resource URLs. */
function validateRules(obj: KObject, namespaced: boolean): Causes {
  const c: Causes = [];
  const rules = (obj as { rules?: unknown }).rules;
  if (rules === undefined || rules === null) return c;
  if (!Array.isArray(rules)) {
    add(c, 'rules', 'Invalid value: must be a list', 'FieldValueTypeInvalid');
    return c;
  }
  rules.forEach((r: { verbs?: unknown[]; apiGroups?: unknown[]; resources?: unknown[]; nonResourceURLs?: unknown[] } | null, i) => {
    const f = `rules[${i}]`;
    if (!r || typeof r !== 'object') return add(c, f, 'Invalid value: must be an object', 'FieldValueTypeInvalid');
    if (!r.verbs?.length) add(c, `${f}.verbs`, 'Required value: verbs must contain at least one value', 'FieldValueRequired');
    const hasUrls = (r.nonResourceURLs?.length ?? 0) > 0;
    if (hasUrls) {
      if (namespaced) add(c, `${f}.nonResourceURLs`, `Invalid value: ${JSON.stringify(r.nonResourceURLs)}: namespaced rules cannot apply to non-resource URLs`, 'FieldValueInvalid');
      if ((r.apiGroups?.length ?? 0) > 0 || (r.resources?.length ?? 0) > 0)
        add(c, `${f}.nonResourceURLs`, `Invalid value: ${JSON.stringify(r.nonResourceURLs)}: rules cannot apply to both regular resources and non-resource URLs`, 'FieldValueInvalid');
      return;
    }
    if (!r.apiGroups?.length) add(c, `${f}.apiGroups`, 'Required value: resource rules must supply at least one api group', 'FieldValueRequired');
    if (!r.resources?.length) add(c, `${f}.resources`, 'Required value: resource rules must supply at least one resource', 'FieldValueRequired');
  });
  return c;
}

/** ValidateRoleBindingSubject: a known kind, a name, and the apiGroup each kind takes. */
function validateSubjects(obj: KObject): Causes {
  const c: Causes = [];
  const subjects = (obj as { subjects?: unknown }).subjects;
  if (subjects === undefined || subjects === null) return c;
  if (!Array.isArray(subjects)) {
    add(c, 'subjects', 'Invalid value: must be a list', 'FieldValueTypeInvalid');
    return c;
  }
  subjects.forEach((s: { kind?: unknown; name?: unknown; apiGroup?: unknown } | null, i) => {
    const f = `subjects[${i}]`;
    if (!s || typeof s !== 'object') return add(c, f, 'Invalid value: must be an object', 'FieldValueTypeInvalid');
    if (typeof s.name !== 'string' || s.name === '') add(c, `${f}.name`, 'Required value', 'FieldValueRequired');
    switch (s.kind) {
      case 'ServiceAccount':
        if (s.apiGroup !== undefined && s.apiGroup !== '') add(c, `${f}.apiGroup`, `Unsupported value: ${JSON.stringify(s.apiGroup)}: supported values: ""`, 'FieldValueNotSupported');
        break;
      case 'User':
      case 'Group':
        if (s.apiGroup !== 'rbac.authorization.k8s.io') add(c, `${f}.apiGroup`, `Unsupported value: ${JSON.stringify(s.apiGroup)}: supported values: "rbac.authorization.k8s.io"`, 'FieldValueNotSupported');
        break;
      default:
        add(c, `${f}.kind`, `Unsupported value: ${JSON.stringify(s.kind)}: supported values: "ServiceAccount", "User", "Group"`, 'FieldValueNotSupported');
    }
  });
  return c;
}

/** Subjects of kind User/Group default their apiGroup, as the v1 defaulting does. */
function defaultSubjects(obj: KObject): void {
  const subjects = (obj as { subjects?: { kind?: string; apiGroup?: string }[] }).subjects;
  if (!Array.isArray(subjects)) return;
  for (const s of subjects) if (s && typeof s === 'object' && (s.kind === 'User' || s.kind === 'Group') && s.apiGroup === undefined) s.apiGroup = 'rbac.authorization.k8s.io';
}

/** path.ValidatePathSegmentName, RBAC's name rule: `system:node`, `kubeadm:cluster-admins` are valid names. */
const validatePathSegmentName: NameValidator = (c, field, name) => {
  if (name === '.' || name === '..') add(c, field, `Invalid value: ${JSON.stringify(name)}: may not be '${name}'`);
  for (const bad of ['/', '%']) if (name.includes(bad)) add(c, field, `Invalid value: ${JSON.stringify(name)}: may not contain '${bad}'`);
};

export const roles: Strategy = { validateName: validatePathSegmentName, validate: (obj) => validateRules(obj, true), columns: PRINTERS.roles };
export const clusterroles: Strategy = { validateName: validatePathSegmentName, validate: (obj) => validateRules(obj, false), columns: PRINTERS.clusterroles };
export const rolebindings: Strategy = {
  validateName: validatePathSegmentName,
  defaults: defaultSubjects,
  validate: (obj) => [...validateRoleRef(obj, ['Role', 'ClusterRole']), ...validateSubjects(obj)],
  validateUpdate: (next, cur) => roleRefImmutable(next, cur),
  columns: PRINTERS.rolebindings,
};
export const clusterrolebindings: Strategy = {
  validateName: validatePathSegmentName,
  defaults: defaultSubjects,
  validate: (obj) => [...validateRoleRef(obj, ['ClusterRole']), ...validateSubjects(obj)],
  validateUpdate: (next, cur) => roleRefImmutable(next, cur),
  columns: PRINTERS.clusterrolebindings,
};

/** roleRef cannot change (kubectl replaces such a binding). */
function roleRefImmutable(next: KObject, cur: KObject): Causes {
  const c: Causes = [];
  if (JSON.stringify(next.roleRef) !== JSON.stringify(cur.roleRef)) add(c, 'roleRef', `Invalid value: ${JSON.stringify(next.roleRef)}: cannot change roleRef`, 'FieldValueInvalid');
  return c;
}
