/**
 * Garbage collector for ownerReferences:
 *  - background: an object whose owners are all gone (checked against the API, not only the cache) is
 *    deleted; dangling references next to live owners are removed;
 *  - foreground: an owner with the `foregroundDeletion` finalizer has its dependents deleted (in
 *    foreground again when they block), and loses the finalizer once no blocking dependent is left;
 *  - orphan: an owner with the `orphan` finalizer has its references removed from its dependents, then
 *    loses the finalizer.
 * Keys are `<resource>|<namespace>/<name>`.
 */
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { isConflict, isNotFound } from '../api/errors.js';
import { resourceForKind } from '../api/resources.js';
import { keyOf, splitKey, type KObject, type ResourceName } from '../api/types.js';
import type { Informer } from '../client/informer.js';
import type { Controller, ControllerContext, Enqueue } from './context.js';
import { release } from './ownership.js';

/** Resources the collector watches: every kind that owns or is owned in practice. */
export const GC_RESOURCES: readonly ResourceName[] = [
  'pods',
  'replicasets',
  'deployments',
  'statefulsets',
  'daemonsets',
  'jobs',
  'cronjobs',
  'controllerrevisions',
  'persistentvolumeclaims',
  'services',
  'endpoints',
  'endpointslices',
  'configmaps',
  'secrets',
];

type AnyInformer = Informer<string, KObject>;

const FOREGROUND = 'foregroundDeletion';
const ORPHAN = 'orphan';

export class GarbageCollector implements Controller {
  readonly name = 'garbagecollector';
  private readonly infs = new Map<string, AnyInformer>();

  constructor(private readonly ctx: ControllerContext) {
    for (const r of GC_RESOURCES) this.infs.set(r, ctx.informers.get(r) as unknown as AnyInformer);
  }

  register(q: Enqueue): void {
    for (const [resource, inf] of this.infs) {
      const self = (o: KObject): void => {
        const m = o.metadata;
        if (m?.ownerReferences?.length || m?.finalizers?.some((f) => f === FOREGROUND || f === ORPHAN)) q.add(`${resource}|${keyOf(o)}`);
      };
      const dependents = (o: KObject): void => {
        for (const [r, d] of this.dependentsOf(o.metadata?.uid ?? '')) q.add(`${r}|${keyOf(d)}`);
      };
      const waitingOwners = (o: KObject): void => {
        for (const ref of o.metadata?.ownerReferences ?? []) {
          const found = this.cachedOwner(ref);
          if (found?.obj.metadata?.deletionTimestamp) q.add(`${found.resource}|${keyOf(found.obj)}`);
        }
      };
      inf.addHandler({
        onAdd: self,
        onUpdate: (old, o) => {
          self(o);
          if (o.metadata?.deletionTimestamp && !old.metadata?.deletionTimestamp) dependents(o);
          if (o.metadata?.deletionTimestamp) waitingOwners(o);
        },
        onDelete: (o) => {
          dependents(o);
          waitingOwners(o);
        },
      });
    }
  }

  private dependentsOf(uid: string): [string, KObject][] {
    const out: [string, KObject][] = [];
    if (!uid) return out;
    for (const [r, inf] of this.infs) for (const d of inf.byIndex('owner', uid)) out.push([r, d]);
    return out;
  }

  private cachedOwner(ref: OwnerReference): { resource: string; obj: KObject } | undefined {
    const info = resourceForKind(ref.apiVersion, ref.kind);
    const inf = info && this.infs.get(info.resource);
    const obj = inf?.byIndex('uid', ref.uid)[0];
    return info && obj ? { resource: info.resource, obj } : undefined;
  }

  /** The owner as the API has it now (undefined: gone, or replaced by an object with another uid). */
  private async liveOwner(ref: OwnerReference, namespace: string): Promise<KObject | undefined> {
    const cached = this.cachedOwner(ref);
    if (cached) return cached.obj;
    const info = resourceForKind(ref.apiVersion, ref.kind);
    if (!info) return undefined;
    try {
      const o = await this.ctx.client.get(info.resource, ref.name, { namespace: info.namespaced ? namespace : undefined });
      return o.metadata?.uid === ref.uid ? o : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async reconcile(k: string): Promise<{ requeueAfter: number } | void> {
    const bar = k.indexOf('|');
    const resource = k.slice(0, bar);
    const key = k.slice(bar + 1);
    const obj = this.infs.get(resource)?.get(key);
    if (!obj) return;
    const meta = obj.metadata ?? {};
    if (meta.deletionTimestamp && meta.finalizers?.includes(ORPHAN)) return this.orphanDependents(resource, obj);
    if (meta.deletionTimestamp && meta.finalizers?.includes(FOREGROUND)) return this.deleteDependentsFirst(resource, obj);
    const refs = meta.ownerReferences ?? [];
    if (!refs.length || meta.deletionTimestamp) return;
    const { namespace } = splitKey(key);
    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    for (const ref of refs) {
      const owner = await this.liveOwner(ref, namespace);
      if (!owner) dangling.push(ref);
      else if (owner.metadata?.deletionTimestamp && owner.metadata.finalizers?.includes(FOREGROUND)) waiting.push(ref);
      else solid.push(ref);
    }
    if (!dangling.length && !waiting.length) return;
    if (solid.length) {
      // Other owners still hold it: only drop the references that no longer mean anything.
      const drop = new Set([...dangling, ...waiting].map((r) => r.uid));
      await this.patchRefs(resource, obj, refs.filter((r) => !drop.has(r.uid)));
      return;
    }
    const policy = waiting.length ? 'Foreground' : 'Background';
    try {
      await this.ctx.client.delete(resource, meta.name ?? '', { namespace: namespace || undefined, propagationPolicy: policy, preconditions: { uid: meta.uid } });
      this.ctx.log.debug({ resource, key, policy }, 'deleted dependent whose owners are gone');
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }

  private async patchRefs(resource: string, obj: KObject, refs: OwnerReference[]): Promise<void> {
    try {
      await this.ctx.client.patch(resource, obj.metadata?.name ?? '', { metadata: { ownerReferences: refs.length ? refs : null, resourceVersion: obj.metadata?.resourceVersion } }, {
        namespace: obj.metadata?.namespace,
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async orphanDependents(resource: string, owner: KObject): Promise<void> {
    const uid = owner.metadata?.uid ?? '';
    for (const [r, d] of this.dependentsOf(uid)) await release(this.ctx.client, r, d, uid);
    await this.removeFinalizer(resource, owner, ORPHAN);
  }

  private async deleteDependentsFirst(resource: string, owner: KObject): Promise<{ requeueAfter: number } | void> {
    const uid = owner.metadata?.uid ?? '';
    const deps = this.dependentsOf(uid);
    let blocking = 0;
    for (const [r, d] of deps) {
      const ref = d.metadata?.ownerReferences?.find((x) => x.uid === uid);
      if (ref?.blockOwnerDeletion) blocking++;
      if (d.metadata?.deletionTimestamp) continue;
      try {
        await this.ctx.client.delete(r, d.metadata?.name ?? '', {
          namespace: d.metadata?.namespace,
          propagationPolicy: ref?.blockOwnerDeletion ? 'Foreground' : 'Background',
          preconditions: { uid: d.metadata?.uid },
        });
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
    }
    // Dependent deletions come back as events; the requeue only guards against a missed one.
    if (blocking > 0) return { requeueAfter: 5000 };
    await this.removeFinalizer(resource, owner, FOREGROUND);
  }

  private async removeFinalizer(resource: string, obj: KObject, finalizer: string): Promise<void> {
    const { namespace, name } = splitKey(keyOf(obj));
    for (let i = 0; i < 5; i++) {
      let cur: KObject;
      try {
        cur = await this.ctx.client.get(resource, name, { namespace: namespace || undefined });
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      if (!cur.metadata?.finalizers?.includes(finalizer)) return;
      const finalizers = cur.metadata.finalizers.filter((f) => f !== finalizer);
      try {
        await this.ctx.client.patch(resource, name, { metadata: { finalizers: finalizers.length ? finalizers : null, resourceVersion: cur.metadata.resourceVersion } }, {
          namespace: namespace || undefined,
        });
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (!isConflict(err)) throw err;
      }
    }
    throw new Error(`could not remove finalizer ${finalizer} from ${resource} ${keyOf(obj)}`);
  }
}
