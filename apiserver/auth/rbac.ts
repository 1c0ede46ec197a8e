/**
 * RBAC evaluated as Kubernetes does (plugin/pkg/auth/authorizer/rbac/rbac.go,
 * pkg/apis/rbac/v1/evaluation_helpers.go, pkg/registry/rbac/validation/rule.go): the rules of every
 * ClusterRoleBinding and (in the request's namespace) RoleBinding whose subjects match the user are
 * visited; the first rule that allows the request allows it; nothing denies. A binding to a missing role
 * is an error the answer's reason names, never a failure of the request path.
 */
import type { Attributes, AuthorizationResult } from './attributes.js';
import type { UserInfo } from './user.js';

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind: string;
  name: string;
  namespace?: string;
  apiGroup?: string;
}

export interface RoleRef {
  apiGroup?: string;
  kind: string;
  name: string;
}

export interface Binding {
  metadata?: { name?: string; namespace?: string };
  subjects?: Subject[];
  roleRef: RoleRef;
}

export interface Role {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  rules?: PolicyRule[] | null;
}

/** Where the authorizer reads roles and bindings (the watch caches). */
export interface RbacSource {
  clusterRoleBindings(): readonly Binding[];
  roleBindings(namespace: string): readonly Binding[];
  clusterRole(name: string): Role | undefined;
  role(namespace: string, name: string): Role | undefined;
}

const has = (list: readonly string[] | undefined, v: string): boolean => !!list && list.includes(v);

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return has(rule.verbs, '*') || has(rule.verbs, verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return has(rule.apiGroups, '*') || has(rule.apiGroups, group);
}

export function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  for (const r of rule.resources ?? []) {
    if (r === '*' || r === combined) return true;
    // "*/status" matches every resource's status subresource.
    if (subresource && r.length === subresource.length + 2 && r.startsWith('*/') && r.slice(2) === subresource) return true;
  }
  return false;
}

export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  if (!rule.resourceNames || rule.resourceNames.length === 0) return true;
  return rule.resourceNames.includes(name);
}

export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === '*' || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.replace(/\*+$/, ''))) return true;
  }
  return false;
}

export function ruleAllows(a: Attributes, rule: PolicyRule): boolean {
  if (a.resourceRequest) {
    const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    return verbMatches(rule, a.verb) && apiGroupMatches(rule, a.apiGroup) && resourceMatches(rule, combined, a.subresource) && resourceNameMatches(rule, a.name);
  }
  return verbMatches(rule, a.verb) && nonResourceURLMatches(rule, a.path);
}

/** Whether `subject` names `user`; `namespace` is the binding's (a ServiceAccount subject defaults to it). */
export function appliesToUser(user: UserInfo, subject: Subject, namespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return user.name === subject.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const ns = subject.namespace || namespace;
      if (!ns) return false;
      return user.name === `system:serviceaccount:${ns}:${subject.name}`;
    }
    default:
      return false;
  }
}

function appliesTo(user: UserInfo, subjects: readonly Subject[] | undefined, namespace: string): boolean {
  for (const s of subjects ?? []) if (appliesToUser(user, s, namespace)) return true;
  return false;
}

/** The rules a roleRef points at; an error string when the role is missing or the ref malformed. */
export function roleRefRules(src: RbacSource, ref: RoleRef, bindingNamespace: string): PolicyRule[] | string {
  if (ref.kind === 'ClusterRole') {
    const r = src.clusterRole(ref.name);
    return r ? (r.rules ?? []) : `clusterrole.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found`;
  }
  if (ref.kind === 'Role') {
    const r = src.role(bindingNamespace, ref.name);
    return r ? (r.rules ?? []) : `role.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found`;
  }
  return `unsupported role reference kind: ${JSON.stringify(ref.kind)}`;
}

/**
 * Visits the rules that apply to `user` in `namespace` ('' = cluster-wide only), as
 * DefaultRuleResolver.VisitRulesFor; `visit` returns false to stop early.
 */
export function visitRulesFor(src: RbacSource, user: UserInfo, namespace: string, visit: (rule: PolicyRule | undefined, err: string | undefined) => boolean): void {
  for (const b of src.clusterRoleBindings()) {
    if (!appliesTo(user, b.subjects, '')) continue;
    const rules = roleRefRules(src, b.roleRef, '');
    if (typeof rules === 'string') {
      if (!visit(undefined, rules)) return;
      continue;
    }
    for (const r of rules) if (!visit(r, undefined)) return;
  }
  if (!namespace) return;
  for (const b of src.roleBindings(namespace)) {
    if (!appliesTo(user, b.subjects, namespace)) continue;
    const rules = roleRefRules(src, b.roleRef, namespace);
    if (typeof rules === 'string') {
      if (!visit(undefined, rules)) return;
      continue;
    }
    for (const r of rules) if (!visit(r, undefined)) return;
  }
}

/** RBACAuthorizer.Authorize: Allow on the first matching rule, else NoOpinion (with the lookup errors as reason). */
export function rbacAuthorize(src: RbacSource, a: Attributes): AuthorizationResult {
  let allowed = false;
  const errors: string[] = [];
  visitRulesFor(src, a.user, a.namespace, (rule, err) => {
    if (err) {
      errors.push(err);
      return true;
    }
    if (rule && ruleAllows(a, rule)) {
      allowed = true;
      return false;
    }
    return true;
  });
  if (allowed) return { decision: 'Allow', reason: '' };
  return { decision: 'NoOpinion', reason: errors.length ? `RBAC: ${errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`}` : '' };
}

/** Every rule that applies to `user` in `namespace`, and whether some binding could not be resolved (RulesFor). */
export function rulesFor(src: RbacSource, user: UserInfo, namespace: string): { rules: PolicyRule[]; errors: string[] } {
  const rules: PolicyRule[] = [];
  const errors: string[] = [];
  visitRulesFor(src, user, namespace, (rule, err) => {
    if (rule) rules.push(rule);
    if (err) errors.push(err);
    return true;
  });
  return { rules, errors };
}

// ------------------------------------------------------------------ escalation (validation.Covers)

/** One verb on one group/resource (/name) or one non-resource URL: the unit Covers compares. */
function breakdown(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? [])
    for (const resource of rule.resources ?? [])
      for (const verb of rule.verbs ?? []) {
        if ((rule.resourceNames ?? []).length === 0) out.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
        else for (const n of rule.resourceNames ?? []) out.push({ apiGroups: [group], resources: [resource], resourceNames: [n], verbs: [verb] });
      }
  for (const url of rule.nonResourceURLs ?? []) for (const verb of rule.verbs ?? []) out.push({ nonResourceURLs: [url], verbs: [verb] });
  return out;
}

function hasAll(set: readonly string[] | undefined, want: readonly string[] | undefined): boolean {
  const s = new Set(set ?? []);
  return (want ?? []).every((w) => s.has(w));
}

function resourceCoversAll(owner: readonly string[] | undefined, servant: readonly string[] | undefined): boolean {
  const o = owner ?? [];
  if (o.includes('*') || hasAll(o, servant)) return true;
  for (const r of servant ?? []) {
    const slash = r.indexOf('/');
    if (o.includes(r)) continue;
    // "*/scale" covers "deployments/scale".
    if (slash >= 0 && o.includes(`*${r.slice(slash)}`)) continue;
    return false;
  }
  return true;
}

function nonResourceURLCovers(owner: string, servant: string): boolean {
  if (owner === servant) return true;
  return owner.endsWith('*') && servant.startsWith(owner.slice(0, -1));
}

/** ruleCovers: whether one owner rule covers one broken-down servant rule. */
function ruleCovers(owner: PolicyRule, servant: PolicyRule): boolean {
  const verbs = has(owner.verbs, '*') || hasAll(owner.verbs, servant.verbs);
  const groups = has(owner.apiGroups, '*') || hasAll(owner.apiGroups, servant.apiGroups);
  const resources = resourceCoversAll(owner.resources, servant.resources);
  const urls = (servant.nonResourceURLs ?? []).every((s) => (owner.nonResourceURLs ?? []).some((o) => nonResourceURLCovers(o, s)));
  // A servant rule without names needs an owner rule without names (all of them).
  const names = (servant.resourceNames ?? []).length === 0 ? (owner.resourceNames ?? []).length === 0 : (owner.resourceNames ?? []).length === 0 || hasAll(owner.resourceNames, servant.resourceNames);
  return verbs && groups && resources && urls && names;
}

/** validation.Covers: the servant rules the owner's rules do not cover (empty = covered). */
export function uncoveredRules(owner: readonly PolicyRule[], servant: readonly PolicyRule[]): PolicyRule[] {
  const missing: PolicyRule[] = [];
  for (const s of servant)
    for (const simple of breakdown(s)) {
      if (!owner.some((o) => ruleCovers(o, simple))) missing.push(simple);
    }
  return missing;
}

/** A rule printed as Kubernetes' escalation error prints it: `{APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}`. */
export function compactRule(r: PolicyRule): string {
  const parts: string[] = [];
  const q = (l: readonly string[]): string => `[${l.map((s) => JSON.stringify(s)).join(' ')}]`;
  if (r.apiGroups?.length) parts.push(`APIGroups:${q(r.apiGroups)}`);
  if (r.resources?.length) parts.push(`Resources:${q(r.resources)}`);
  if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${q(r.nonResourceURLs)}`);
  if (r.resourceNames?.length) parts.push(`ResourceNames:${q(r.resourceNames)}`);
  parts.push(`Verbs:${q(r.verbs)}`);
  return `{${parts.join(', ')}}`;
}
