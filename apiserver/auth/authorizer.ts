/**
 * The apiserver's authorizer: the modes of --authorization-mode asked in order (Kubernetes' union
 * authorizer): the first Allow or Deny decides, NoOpinion asks the next; the reasons of those that had
 * no opinion are joined into the refusal. RBAC and the Node authorizer read the watch caches, so a
 * decision costs no etcd round trip.
 */
import type { KObject } from '../../api/types.js';
import type { Attributes, AuthorizationResult } from './attributes.js';
import { nodeAuthorize, type NodeGraphSource } from './node.js';
import { rbacAuthorize, rulesFor, type Binding, type PolicyRule, type RbacSource, type Role } from './rbac.js';
import type { UserInfo } from './user.js';

export const AUTHORIZATION_MODES = ['AlwaysAllow', 'AlwaysDeny', 'Node', 'RBAC'] as const;
export type AuthorizationMode = (typeof AUTHORIZATION_MODES)[number];

/** The caches the authorizer reads: `items` of a resource's watch cache, and its revision. */
export interface CacheView {
  items(resource: string): ReadonlyMap<string, KObject>;
  revision(resource: string): number;
}

/** RbacSource over the watch caches, with bindings indexed per namespace and rebuilt when a cache moves. */
export class CachedRbacSource implements RbacSource {
  private crbRev = -1;
  private rbRev = -1;
  private crbs: Binding[] = [];
  private rbs = new Map<string, Binding[]>();

  constructor(private readonly caches: CacheView) {}

  clusterRoleBindings(): readonly Binding[] {
    const rev = this.caches.revision('clusterrolebindings');
    if (rev !== this.crbRev) {
      this.crbs = [...this.caches.items('clusterrolebindings').values()].filter(isBinding);
      this.crbRev = rev;
    }
    return this.crbs;
  }

  roleBindings(namespace: string): readonly Binding[] {
    const rev = this.caches.revision('rolebindings');
    if (rev !== this.rbRev) {
      this.rbs = new Map();
      for (const b of this.caches.items('rolebindings').values()) {
        if (!isBinding(b)) continue;
        const ns = b.metadata?.namespace ?? '';
        let l = this.rbs.get(ns);
        if (!l) this.rbs.set(ns, (l = []));
        l.push(b);
      }
      this.rbRev = rev;
    }
    return this.rbs.get(namespace) ?? [];
  }

  clusterRole(name: string): Role | undefined {
    return this.caches.items('clusterroles').get(name) as Role | undefined;
  }

  role(namespace: string, name: string): Role | undefined {
    return this.caches.items('roles').get(`${namespace}/${name}`) as Role | undefined;
  }
}

/** A stored binding whose roleRef can be read (validation keeps malformed ones out; older data might not). */
function isBinding(o: KObject): o is KObject & Binding {
  const ref = (o as { roleRef?: { kind?: unknown; name?: unknown } }).roleRef;
  return !!ref && typeof ref.kind === 'string' && typeof ref.name === 'string';
}

export class CachedNodeGraph implements NodeGraphSource {
  constructor(private readonly caches: CacheView) {}

  *podsOnNode(node: string): Iterable<KObject> {
    for (const p of this.caches.items('pods').values()) if ((p.spec as { nodeName?: string } | undefined)?.nodeName === node) yield p;
  }

  pvc(namespace: string, name: string): KObject | undefined {
    return this.caches.items('persistentvolumeclaims').get(`${namespace}/${name}`);
  }
}

export class Authorizer {
  readonly rbac: RbacSource;
  readonly graph: NodeGraphSource;
  readonly alwaysAllow: boolean;

  constructor(
    readonly modes: readonly AuthorizationMode[],
    caches: CacheView,
  ) {
    this.rbac = new CachedRbacSource(caches);
    this.graph = new CachedNodeGraph(caches);
    this.alwaysAllow = modes[0] === 'AlwaysAllow';
  }

  authorize(a: Attributes): AuthorizationResult {
    // system:masters is allowed everything before any mode is asked (kube-apiserver's privileged-group authorizer).
    if (a.user.groups.includes('system:masters')) return { decision: 'Allow', reason: '' };
    const reasons: string[] = [];
    for (const mode of this.modes) {
      let r: AuthorizationResult;
      switch (mode) {
        case 'AlwaysAllow':
          return { decision: 'Allow', reason: '' };
        case 'AlwaysDeny':
          r = { decision: 'Deny', reason: 'Everything is forbidden.' };
          break;
        case 'Node':
          r = nodeAuthorize(this.graph, a);
          break;
        case 'RBAC':
          r = rbacAuthorize(this.rbac, a);
          break;
      }
      if (r.decision !== 'NoOpinion') return r;
      if (r.reason) reasons.push(r.reason);
    }
    return { decision: 'NoOpinion', reason: reasons.join(', ') };
  }

  /** The rules `user` holds in `namespace` (SelfSubjectRulesReview), and whether the list is incomplete. */
  rulesFor(user: UserInfo, namespace: string): { resourceRules: PolicyRule[]; nonResourceRules: PolicyRule[]; incomplete: boolean; evaluationError?: string } {
    if (this.alwaysAllow || user.groups.includes('system:masters'))
      return { resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }], incomplete: false };
    const resourceRules: PolicyRule[] = [];
    const nonResourceRules: PolicyRule[] = [];
    let incomplete = false;
    const errors: string[] = [];
    for (const mode of this.modes) {
      if (mode === 'RBAC') {
        const r = rulesFor(this.rbac, user, namespace);
        for (const rule of r.rules) (rule.nonResourceURLs?.length ? nonResourceRules : resourceRules).push(rule);
        if (r.errors.length) {
          incomplete = true;
          errors.push(...r.errors);
        }
      } else if (mode === 'Node' && user.groups.includes('system:nodes')) {
        // The Node authorizer cannot list what it allows (it depends on each object): Kubernetes says incomplete.
        incomplete = true;
        errors.push('node authorizer does not support user rule resolution');
      }
    }
    return { resourceRules, nonResourceRules, incomplete, ...(errors.length ? { evaluationError: errors.join(', ') } : {}) };
  }
}

/** Parses --authorization-mode; undefined when valid, else the message. */
export function parseAuthorizationModes(value: string): AuthorizationMode[] | string {
  const modes = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (modes.length === 0) return 'at least one authorization mode must be given';
  for (const m of modes) if (!(AUTHORIZATION_MODES as readonly string[]).includes(m)) return `authorization mode "${m}" is not one of ${AUTHORIZATION_MODES.join(', ')}`;
  if (new Set(modes).size !== modes.length) return 'an authorization mode may appear only once';
  return modes as AuthorizationMode[];
}
