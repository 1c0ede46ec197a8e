/**
 * The wiring every controller repeats, as controller-runtime names it: `For` (an event on a primary object
 * enqueues its own key), `Owns` (an event on a dependent enqueues its controlling owner of a kind), and the
 * status write at the end of a reconcile that happens only when the status changed.
 */
import { isNotFound } from '../api/errors.js';
import { controllerRef } from '../api/objects.js';
import type { ApiClient } from '../client/api.js';
import { keyOf, type KObject, type ResourceName, type TypeOf } from '../api/types.js';
import type { EventHandlers } from '../client/informer.js';
import type { Enqueue } from './context.js';

/** Where handlers are added: an informer (or anything with its `addHandler`). */
export interface HandlerSource<T> {
  addHandler(h: EventHandlers<T>): void;
}

export interface ForOptions<T> {
  /** Enqueue the key of a deleted object too (default true); `false` for controllers with nothing to undo. */
  deletes?: boolean;
  /** Runs with the key of a deleted object before anything is enqueued (drop its expectations). */
  forget?(key: string): void;
  /** An update enqueues only when this holds (controller-runtime's update predicates, e.g. `generationChanged`). */
  updated?(old: T, obj: T): boolean;
}

/** controller-runtime's GenerationChangedPredicate: a spec change, not the echo of the controller's own status write. */
export function generationChanged(old: KObject, obj: KObject): boolean {
  return old.metadata?.generation !== obj.metadata?.generation;
}

/** controller-runtime's `For` (EnqueueRequestForObject): adds and updates enqueue the object's own key. */
export function enqueueFor<T extends KObject>(source: HandlerSource<T>, q: Enqueue, o: ForOptions<T> = {}): void {
  const add = (obj: T): void => q.add(keyOf(obj));
  const deletes = o.deletes ?? true;
  const updated = o.updated;
  source.addHandler({
    onAdd: add,
    onUpdate: (old, obj) => {
      if (!updated || updated(old, obj)) add(obj);
    },
    ...(deletes || o.forget
      ? {
          onDelete: (obj: T) => {
            o.forget?.(keyOf(obj));
            if (deletes) add(obj);
          },
        }
      : {}),
  });
}

/** The namespace/name key of `obj`'s controlling owner when it is of `kind`, else undefined. */
export function ownerKey(obj: KObject, kind: string): string | undefined {
  const ref = controllerRef(obj);
  return ref?.kind === kind ? `${obj.metadata?.namespace ?? ''}/${ref.name}` : undefined;
}

export interface OwnsOptions {
  /** Runs with the owner's key when a dependent is added (the owner's creation expectations). */
  created?(ownerKey: string): void;
}

/**
 * controller-runtime's `Owns` (EnqueueRequestForOwner, OnlyControllerOwner): an add, update or delete of a
 * dependent enqueues its controlling owner of `ownerKind`; dependents of other owners are ignored.
 */
export function enqueueOwner<T extends KObject>(source: HandlerSource<T>, ownerKind: string, q: Enqueue, o: OwnsOptions = {}): void {
  const forDependent = (obj: T): void => {
    const k = ownerKey(obj, ownerKind);
    if (k) q.add(k);
  };
  source.addHandler({
    onAdd: (obj) => {
      const k = ownerKey(obj, ownerKind);
      if (!k) return;
      o.created?.(k);
      q.add(k);
    },
    onUpdate: (_old, obj) => forDependent(obj),
    onDelete: forDependent,
  });
}

/**
 * Writes `status` through `obj`'s status subresource unless `same(current, next)` finds nothing changed;
 * an object deleted meanwhile is no error (the informer brings the delete). Returns whether it wrote.
 */
export async function updateStatusIfChanged<R extends ResourceName, S>(
  client: ApiClient,
  resource: R,
  obj: TypeOf<R>,
  status: S,
  same: (current: S | undefined, next: S) => boolean,
): Promise<boolean> {
  const current = (obj as { status?: S }).status;
  if (same(current, status)) return false;
  const next = structuredClone(obj) as TypeOf<R> & { status?: S };
  next.status = status;
  try {
    await client.updateStatus(resource, next);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  return true;
}
