/**
 * The security loops that keep objects in place, run inside the apiserver next to the `kubernetes`
 * Service controller (one process less to give credentials to):
 * - the bootstrap RBAC policy reconciled at start (kube-apiserver's rbac/bootstrap-roles post-start hook):
 *   missing roles/bindings are created, missing rules and subjects added to those annotated autoupdate;
 * - ClusterRole aggregation (kube-controller-manager's clusterrole-aggregation controller): a ClusterRole with
 *   an aggregationRule holds the union of the rules of the ClusterRoles its selectors match;
 * - when ServiceAccounts are on: a `default` ServiceAccount in every namespace (serviceaccount controller) and
 *   the `kube-root-ca.crt` ConfigMap holding the cluster CA (root-ca-cert-publisher).
 * Each loop is level-triggered: watch events only kick one reconcile that reads the caches and fixes what differs.
 * One malformed object costs its own key, never the loop.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { ApiError } from '../../api/errors.js';
import { fromLabelSelector, matchesLabels } from '../../api/selectors.js';
import type { KObject } from '../../api/types.js';
import type { Registry } from '../registry.js';
import { bootstrapClusterRoleBindingObjects, bootstrapClusterRoleObjects } from './bootstrap.js';
import type { PolicyRule } from './rbac.js';

const AUTOUPDATE = 'rbac.authorization.kubernetes.io/autoupdate';

const isConflictOrExists = (err: unknown): boolean => err instanceof ApiError && (err.reason === 'Conflict' || err.reason === 'AlreadyExists' || err.reason === 'NotFound');

/** Creates the bootstrap roles and bindings, and adds what a stored copy lacks (never removes). */
export async function reconcileBootstrapPolicy(registry: Registry, log: Logger): Promise<void> {
  const cache = (r: string): ReadonlyMap<string, KObject> => registry.caches.get(r)?.items ?? new Map<string, KObject>();
  // Every object at once (each is one etcd write; one after the other they held a fresh apiserver's start ~0.4 s).
  const reconcile = async (resource: string, want: KObject): Promise<void> => {
    const name = want.metadata?.name ?? '';
    try {
      const have = cache(resource).get(name) ?? (await registry.get(resource, '', name).catch(() => undefined));
      if (!have) {
        await registry.create(resource, '', want);
        return;
      }
      if (have.metadata?.annotations?.[AUTOUPDATE] === 'false') return;
      await registry.mutate(registry.info(resource), '', name, (cur) => mergeBootstrap(resource, cur, want));
    } catch (err) {
      if (isConflictOrExists(err)) return;
      log.warn({ resource, name, err: (err as Error).message }, 'bootstrap policy object not reconciled');
    }
  };
  await Promise.all([
    ...bootstrapClusterRoleObjects().map((o) => reconcile('clusterroles', o as KObject)),
    ...bootstrapClusterRoleBindingObjects().map((o) => reconcile('clusterrolebindings', o as KObject)),
  ]);
}

function mergeBootstrap(resource: string, cur: KObject, want: KObject): KObject {
  const meta = cur.metadata ?? {};
  meta.labels = { ...(want.metadata?.labels ?? {}), ...(meta.labels ?? {}) };
  meta.annotations = { ...(want.metadata?.annotations ?? {}), ...(meta.annotations ?? {}) };
  cur.metadata = meta;
  const c = cur as KObject & { rules?: PolicyRule[]; aggregationRule?: unknown; subjects?: unknown[] };
  const w = want as KObject & { rules?: PolicyRule[]; aggregationRule?: unknown; subjects?: unknown[] };
  if (resource === 'clusterroles') {
    if (w.aggregationRule) c.aggregationRule = w.aggregationRule;
    else {
      const have = new Set((c.rules ?? []).map((r) => JSON.stringify(r)));
      c.rules = [...(c.rules ?? []), ...(w.rules ?? []).filter((r) => !have.has(JSON.stringify(r)))];
    }
  } else {
    const have = new Set((c.subjects ?? []).map((s) => JSON.stringify(s)));
    c.subjects = [...(c.subjects ?? []), ...(w.subjects ?? []).filter((s) => !have.has(JSON.stringify(s)))];
  }
  return cur;
}

/** The rules an aggregated ClusterRole should hold: the matched roles' rules, deduplicated, in role-name order. */
export function aggregatedRules(role: KObject, all: Iterable<KObject>): PolicyRule[] | undefined {
  const rule = (role as { aggregationRule?: { clusterRoleSelectors?: unknown[] } }).aggregationRule;
  if (!rule) return undefined;
  const selectors = (rule.clusterRoleSelectors ?? []).map((s) => fromLabelSelector(s as Parameters<typeof fromLabelSelector>[0]));
  const matched = [...all]
    .filter((o) => o.metadata?.name !== role.metadata?.name && selectors.some((sel) => sel !== undefined && matchesLabels(sel, o.metadata?.labels)))
    .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  const out: PolicyRule[] = [];
  const seen = new Set<string>();
  for (const m of matched)
    for (const r of (m as { rules?: PolicyRule[] }).rules ?? []) {
      const k = JSON.stringify(r);
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(r);
    }
  return out;
}

export interface SecurityControllerOptions {
  /** Keep a default ServiceAccount and kube-root-ca.crt in every namespace. */
  serviceAccounts: boolean;
  rootCaFile?: string;
}

/** One loop for aggregation and the per-namespace objects; a kick during a run queues exactly one more. */
export class SecurityControllers {
  private readonly unsubscribe: (() => void)[] = [];
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly rootCa: string | undefined;

  constructor(
    private readonly registry: Registry,
    private readonly opts: SecurityControllerOptions,
    private readonly log: Logger,
  ) {
    this.rootCa = opts.rootCaFile ? readFileSync(opts.rootCaFile, 'utf8') : undefined;
  }

  async start(): Promise<void> {
    const resources = ['clusterroles', ...(this.opts.serviceAccounts ? ['namespaces', 'serviceaccounts', 'configmaps'] : [])];
    for (const resource of resources) {
      const unsub = await this.registry.watch(resource, '', {}, {
        send: () => {
          this.kick();
          return true;
        },
        close: () => undefined,
      });
      this.unsubscribe.push(unsub);
    }
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    for (const u of this.unsubscribe.splice(0)) u();
  }

  /** Resolves once no reconcile is running or queued. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.reconcile()
      .catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'security reconcile failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async reconcile(): Promise<void> {
    const roles = [...(this.registry.caches.get('clusterroles')?.items.values() ?? [])];
    for (const role of roles) {
      try {
        const want = aggregatedRules(role, roles);
        if (!want || JSON.stringify(want) === JSON.stringify((role as { rules?: unknown }).rules ?? [])) continue;
        await this.registry.mutate(this.registry.info('clusterroles'), '', role.metadata?.name ?? '', (cur) => ({ ...cur, rules: aggregatedRules(cur, roles) ?? [] }) as KObject);
      } catch (err) {
        if (!isConflictOrExists(err)) this.log.warn({ clusterrole: role.metadata?.name, err: (err as Error).message }, 'clusterrole not aggregated');
      }
    }
    if (!this.opts.serviceAccounts) return;
    const caches = this.registry.caches;
    for (const ns of caches.get('namespaces')?.items.values() ?? []) {
      const name = ns.metadata?.name ?? '';
      if (ns.metadata?.deletionTimestamp) continue;
      try {
        if (!caches.get('serviceaccounts')?.items.has(`${name}/default`))
          await this.registry.create('serviceaccounts', name, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: name } });
        const cm = caches.get('configmaps')?.items.get(`${name}/kube-root-ca.crt`);
        const data = { 'ca.crt': this.rootCa ?? '' };
        if (!cm)
          await this.registry.create('configmaps', name, {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: 'kube-root-ca.crt', namespace: name, annotations: { 'kubernetes.io/description': 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.' } },
            data,
          });
        else if ((cm.data as Record<string, string> | undefined)?.['ca.crt'] !== data['ca.crt'])
          await this.registry.mutate(this.registry.info('configmaps'), name, 'kube-root-ca.crt', (cur) => ({ ...cur, data }) as KObject);
      } catch (err) {
        if (!isConflictOrExists(err) && !(err instanceof ApiError && err.reason === 'Forbidden')) this.log.warn({ namespace: name, err: (err as Error).message }, 'namespace security objects not reconciled');
      }
    }
  }
}
