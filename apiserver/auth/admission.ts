/**
 * Admission plugins that depend on who asks, run by the registry on every write after the resource's
 * own strategy (Kubernetes' admission chain): ServiceAccount (mutating, pods), NodeRestriction, PodSecurity,
 * and RBAC's escalation/bind checks on roles and bindings (Kubernetes does those in the RBAC storage).
 */
import { isDeepStrictEqual } from 'node:util';
import { ApiError, invalid } from '../../api/errors.js';
import type { KObject } from '../../api/types.js';
import { generateNameSuffix } from '../../api/objects.js';
import type { StrategyContext } from '../strategy.js';
import type { Attributes } from './attributes.js';
import type { Authorizer } from './authorizer.js';
import { evaluatePod, formatFailures, namespacePolicy, policyLabelErrors, type Level, type PodSpecLike } from '../../api/podsecurity.js';
import { compactRule, roleRefRules, rulesFor, uncoveredRules, type PolicyRule, type RoleRef } from './rbac.js';
import { nodeNameOf, type UserInfo } from './user.js';

export interface AdmissionRequest {
  readonly operation: 'CREATE' | 'UPDATE' | 'DELETE';
  readonly resource: string;
  readonly group: string;
  readonly subresource: string;
  readonly namespace: string;
  readonly name: string;
  /** The object to store (CREATE/UPDATE); mutating plugins change it in place. */
  readonly object?: KObject;
  /** The stored object (UPDATE/DELETE). */
  readonly oldObject?: KObject;
  readonly user: UserInfo;
  /** Warning headers for the client (299 warnings). */
  readonly warnings: string[];
}

export interface AdmissionPlugin {
  readonly name: string;
  mutate?(req: AdmissionRequest, ctx: StrategyContext): void | Promise<void>;
  validate?(req: AdmissionRequest, ctx: StrategyContext): void | Promise<void>;
}

export const ADMISSION_PLUGINS = ['ServiceAccount', 'NodeRestriction', 'PodSecurity'] as const;
export type AdmissionPluginName = (typeof ADMISSION_PLUGINS)[number];

/** admission.NewForbidden: `<resource> "<name>" is forbidden: <why>`. */
export function admissionForbidden(req: Pick<AdmissionRequest, 'resource' | 'group' | 'name'>, why: string): ApiError {
  const gr = req.group ? `${req.resource}.${req.group}` : req.resource;
  return new ApiError('Forbidden', req.name ? `${gr} ${JSON.stringify(req.name)} is forbidden: ${why}` : `${gr} is forbidden: ${why}`, {
    ...(req.name ? { name: req.name } : {}),
    group: req.group,
    kind: req.resource,
  });
}

// ------------------------------------------------------------------------------ NodeRestriction

/** plugin/pkg/admission/noderestriction: a node may change only itself, its lease, and its own pods' status. */
export const nodeRestriction: AdmissionPlugin = {
  name: 'NodeRestriction',
  validate(req, ctx) {
    const node = nodeNameOf(req.user);
    if (node === undefined) return;
    const deny = (why: string): never => {
      throw admissionForbidden(req, why);
    };
    if (req.group === '' && req.resource === 'pods') {
      const pod = req.operation === 'DELETE' || req.subresource ? (req.oldObject ?? req.object) : req.object;
      const podNode = (pod?.spec as { nodeName?: string } | undefined)?.nodeName ?? '';
      switch (req.subresource) {
        case '':
          if (req.operation === 'CREATE') {
            if (!pod?.metadata?.annotations?.['kubernetes.io/config.mirror']) deny(`pod does not have "kubernetes.io/config.mirror" annotation, node "${node}" can only create mirror pods`);
            if (podNode !== node) deny(`node "${node}" can only create pods with spec.nodeName set to itself`);
            return;
          }
          if (req.operation === 'DELETE') {
            if (podNode !== node) deny(`node "${node}" can only delete pods with spec.nodeName set to itself`);
            return;
          }
          return deny(`node "${node}" can only update pod status`);
        case 'status':
          if (podNode !== node) deny(`node "${node}" can only update pod status for pods with spec.nodeName set to itself`);
          return;
        case 'eviction':
          if (podNode !== node) deny(`node "${node}" can only evict pods with spec.nodeName set to itself`);
          return;
        default:
          return deny(`unexpected operation ${req.operation}, subresource ${req.subresource}`);
      }
    }
    if (req.group === '' && req.resource === 'nodes') {
      if (req.name !== node) deny(`node "${node}" is not allowed to modify node "${req.name}"`);
      return;
    }
    if (req.group === 'coordination.k8s.io' && req.resource === 'leases' && req.namespace === 'kube-node-lease') {
      if (req.name !== node) deny('can only access node lease with the same name as the requesting node');
      return;
    }
    if (req.group === '' && req.resource === 'serviceaccounts' && req.subresource === 'token') {
      const ref = (req.object?.spec as { boundObjectRef?: { kind?: string; name?: string } } | undefined)?.boundObjectRef;
      if (!ref) deny(`node requested token not bound to a pod`);
      if (ref?.kind !== 'Pod') deny(`node requested token bound to a ${ref?.kind ?? ''}, not a pod`);
      const pod = ctx.cachedGet('pods', `${req.namespace}/${ref?.name ?? ''}`);
      const podNode = (pod?.spec as { nodeName?: string } | undefined)?.nodeName;
      if (podNode !== node) deny('node requested token bound to a pod scheduled on a different node');
    }
  },
};

// ------------------------------------------------------------------------------ PodSecurity

const POD_TEMPLATE_RESOURCES: Record<string, string> = {
  'apps/deployments': 'spec.template',
  'apps/replicasets': 'spec.template',
  'apps/statefulsets': 'spec.template',
  'apps/daemonsets': 'spec.template',
  'batch/jobs': 'spec.template',
  '/replicationcontrollers': 'spec.template',
  'batch/cronjobs': 'spec.jobTemplate.spec.template',
};

function templateOf(obj: KObject, path: string): { metadata?: { annotations?: Record<string, string> }; spec?: PodSpecLike } | undefined {
  let cur: unknown = obj;
  for (const seg of path.split('.')) cur = (cur as Record<string, unknown> | undefined)?.[seg];
  return cur as { metadata?: { annotations?: Record<string, string> }; spec?: PodSpecLike } | undefined;
}

/** Pod Security admission with the cluster defaults given (Kubernetes' PodSecurityConfiguration `defaults`). */
export function podSecurity(defaults: { enforce: Level; warn: Level; audit: Level }): AdmissionPlugin {
  return {
    name: 'PodSecurity',
    async validate(req, ctx) {
      if (req.operation === 'DELETE' || !req.object) return;
      if (req.group === '' && req.resource === 'namespaces' && !req.subresource) {
        const errs = policyLabelErrors(req.object.metadata?.labels);
        if (errs.length) throw invalid('Namespace', req.name, errs.map((e) => ({ ...e, reason: 'FieldValueInvalid' })));
        return;
      }
      if (!(req.group === '' && req.resource === 'pods') && !POD_TEMPLATE_RESOURCES[`${req.group}/${req.resource}`]) return;
      // The cache first; a namespace created a moment ago (and its labels) is read from etcd, as the
      // plugin's namespace lister falls back to a live GET.
      const nsObj = req.namespace ? (ctx.cachedGet('namespaces', req.namespace) ?? (await ctx.read('namespaces', '', req.namespace))) : undefined;
      const labels = nsObj?.metadata?.labels;
      const policy = namespacePolicy(labels, defaults.enforce);
      if (!labels?.['pod-security.kubernetes.io/warn']) policy.warn.level = defaults.warn;
      if (!labels?.['pod-security.kubernetes.io/audit']) policy.audit.level = defaults.audit;
      const label = (l: { level: Level; version: string }): string => `${l.level}:${l.version}`;
      if (req.group === '' && req.resource === 'pods') {
        // Updates are checked only where the pod's security can change: a new pod and ephemeral containers.
        if (req.operation === 'UPDATE' && req.subresource !== 'ephemeralcontainers') return;
        if (req.subresource && req.subresource !== 'ephemeralcontainers') return;
        const spec = (req.object.spec ?? {}) as PodSpecLike;
        const meta = req.object.metadata ?? {};
        const enforced = evaluatePod(policy.enforce.level, spec, meta);
        if (enforced.length) throw admissionForbidden(req, `violates PodSecurity ${JSON.stringify(label(policy.enforce))}: ${formatFailures(enforced)}`);
        if (policy.warn.level !== policy.enforce.level || policy.warn.version !== policy.enforce.version) {
          const warned = evaluatePod(policy.warn.level, spec, meta);
          if (warned.length) req.warnings.push(`would violate PodSecurity ${JSON.stringify(label(policy.warn))}: ${formatFailures(warned)}`);
        }
        return;
      }
      const path = POD_TEMPLATE_RESOURCES[`${req.group}/${req.resource}`];
      if (!path || req.subresource) return;
      const tmpl = templateOf(req.object, path);
      if (!tmpl?.spec) return;
      // Pod controllers are warned, not refused (their pods are): enforce and warn levels both warn.
      const seen = new Set<string>();
      for (const l of [policy.enforce, policy.warn]) {
        const key = label(l);
        if (seen.has(key)) continue;
        seen.add(key);
        const failed = evaluatePod(l.level, tmpl.spec, tmpl.metadata ?? {});
        if (failed.length) req.warnings.push(`would violate PodSecurity ${JSON.stringify(key)}: ${formatFailures(failed)}`);
      }
    },
  };
}

// ------------------------------------------------------------------------------ ServiceAccount

const TOKEN_EXPIRATION_SECONDS = 3607;
const SA_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

interface PodSpecSA {
  serviceAccountName?: string;
  serviceAccount?: string;
  automountServiceAccountToken?: boolean;
  volumes?: { name: string; projected?: { sources?: { serviceAccountToken?: unknown }[] } }[];
  containers?: { volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[] }[];
  initContainers?: { volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[] }[];
}

/**
 * plugin/pkg/admission/serviceaccount: defaults spec.serviceAccountName to `default`, refuses a pod whose
 * account does not exist, and mounts the account's credentials (a projected `kube-api-access-xxxxx`
 * volume: a bound token, kube-root-ca.crt's ca.crt, the namespace) at SA_MOUNT_PATH in every container,
 * unless the pod or the account sets automountServiceAccountToken: false.
 */
/**
 * The pod's ServiceAccount: the cache, then etcd; the `default` account is looked up a few more times
 * over ~1 s, since the controller creates it right after its namespace (the plugin's getServiceAccount
 * does the same), so a pod created just after `kubectl create namespace` is not refused.
 */
async function serviceAccountOf(ctx: StrategyContext, namespace: string, name: string): Promise<KObject | undefined> {
  const attempts = name === 'default' ? 10 : 1;
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 100 + Math.floor(Math.random() * 100)));
    const sa = ctx.cachedGet('serviceaccounts', `${namespace}/${name}`) ?? (await ctx.read('serviceaccounts', namespace, name));
    if (sa) return sa;
  }
  return undefined;
}

export const serviceAccountAdmission: AdmissionPlugin = {
  name: 'ServiceAccount',
  async mutate(req, ctx) {
    if (req.operation !== 'CREATE' || req.group !== '' || req.resource !== 'pods' || req.subresource || !req.object) return;
    // Mirror pods (static pods) get no ServiceAccount, as Kubernetes does.
    if (req.object.metadata?.annotations?.['kubernetes.io/config.mirror']) return;
    // A pod without a spec is validation's to refuse (422 naming spec), not this plugin's to fill in.
    if (typeof req.object.spec !== 'object' || req.object.spec === null) return;
    const spec = req.object.spec as PodSpecSA;
    if (!spec.serviceAccountName) spec.serviceAccountName = spec.serviceAccount || 'default';
    spec.serviceAccount = spec.serviceAccountName;
    const sa = await serviceAccountOf(ctx, req.namespace, spec.serviceAccountName);
    if (!sa)
      throw admissionForbidden(
        { resource: 'pods', group: '', name: req.object.metadata?.name ?? '' },
        `error looking up service account ${req.namespace}/${spec.serviceAccountName}: serviceaccount "${spec.serviceAccountName}" not found`,
      );
    const automount = spec.automountServiceAccountToken ?? (sa as { automountServiceAccountToken?: boolean }).automountServiceAccountToken ?? true;
    if (!automount) return;
    const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
    // A pod that mounts something at the path already (or carries a token volume) keeps its own.
    if (containers.some((c) => (c.volumeMounts ?? []).some((m) => m.mountPath === SA_MOUNT_PATH))) return;
    const name = `kube-api-access-${generateNameSuffix()}`;
    spec.volumes = [
      ...(spec.volumes ?? []),
      {
        name,
        projected: {
          defaultMode: 0o644,
          sources: [
            { serviceAccountToken: { expirationSeconds: TOKEN_EXPIRATION_SECONDS, path: 'token' } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
          ],
        },
      } as PodSpecSA['volumes'] extends (infer V)[] | undefined ? V : never,
    ];
    for (const c of containers) c.volumeMounts = [...(c.volumeMounts ?? []), { name, readOnly: true, mountPath: SA_MOUNT_PATH }];
    req.object.spec = spec as KObject['spec'];
  },
};

// ------------------------------------------------------------------------------ RBAC escalation

const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** Whether `next` differs from `old` only in ownerReferences and finalizers (or server-owned bookkeeping). */
function onlyGcFieldsChanged(old: KObject, next: KObject): boolean {
  const strip = (o: KObject): unknown => {
    const { ownerReferences: _o, finalizers: _f, resourceVersion: _r, managedFields: _m, generation: _g, ...meta } = (o.metadata ?? {}) as Record<string, unknown>;
    return { ...o, metadata: meta };
  };
  return isDeepStrictEqual(strip(old), strip(next));
}

/**
 * The RBAC storage's escalation checks (pkg/registry/rbac/{role,clusterrole,rolebinding,clusterrolebinding}/policybased):
 * a user may write a role only with rules it holds itself (or with `escalate` on it), and a binding only
 * to a role whose rules it holds (or with `bind` on it).
 */
export function rbacEscalation(authorizer: Authorizer): AdmissionPlugin {
  const can = (user: UserInfo, verb: string, resource: string, namespace: string, name: string): boolean => {
    const a: Attributes = { user, verb, resourceRequest: true, namespace, apiGroup: RBAC_GROUP, apiVersion: 'v1', resource, subresource: '', name, path: '' };
    return authorizer.authorize(a).decision === 'Allow';
  };
  const confirmNoEscalation = (req: AdmissionRequest, rules: readonly PolicyRule[], namespace: string): void => {
    const held = rulesFor(authorizer.rbac, req.user, namespace);
    const missing = uncoveredRules(held.rules, rules);
    if (!missing.length) return;
    const ownerRules = `user ${JSON.stringify(req.user.name)} (groups=[${req.user.groups.map((g) => JSON.stringify(g)).join(' ')}]) is attempting to grant RBAC permissions not currently held:\n${missing.map(compactRule).join('\n')}`;
    const errs = held.errors.length ? `; resolution errors: [${held.errors.join(' ')}]` : '';
    throw admissionForbidden(req, `${ownerRules}${errs}`);
  };
  return {
    name: 'RBAC',
    validate(req) {
      if (req.group !== RBAC_GROUP || req.operation === 'DELETE' || !req.object || req.subresource) return;
      if (authorizer.alwaysAllow || req.user.groups.includes('system:masters')) return;
      // The garbage collector (and anyone else) may change ownerReferences and finalizers without holding
      // the rules (Kubernetes' rbacregistry.IsOnlyMutatingGCFields).
      if (req.operation === 'UPDATE' && req.oldObject && onlyGcFieldsChanged(req.oldObject, req.object)) return;
      const obj = req.object;
      switch (req.resource) {
        case 'roles':
        case 'clusterroles': {
          const rules = (obj as { rules?: PolicyRule[] }).rules ?? [];
          if (can(req.user, 'escalate', req.resource, req.namespace, req.name)) return;
          return confirmNoEscalation(req, rules, req.namespace);
        }
        case 'rolebindings':
        case 'clusterrolebindings': {
          const ref = (obj as { roleRef?: RoleRef }).roleRef;
          if (!ref) return;
          // An unchanged roleRef on update needs no check (Kubernetes compares with the old binding).
          if (req.operation === 'UPDATE' && JSON.stringify((req.oldObject as { roleRef?: RoleRef } | undefined)?.roleRef) === JSON.stringify(ref)) return;
          const roleResource = ref.kind === 'ClusterRole' ? 'clusterroles' : 'roles';
          if (can(req.user, 'bind', roleResource, ref.kind === 'ClusterRole' ? '' : req.namespace, ref.name)) return;
          if (can(req.user, 'bind', roleResource, req.namespace, ref.name)) return;
          const rules = roleRefRules(authorizer.rbac, ref, req.namespace);
          if (typeof rules === 'string') throw admissionForbidden(req, rules);
          return confirmNoEscalation(req, rules, req.namespace);
        }
      }
    },
  };
}
