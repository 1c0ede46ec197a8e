import { describe, expect, it, vi } from 'vitest';
import type { ApiClient } from '../client/api.js';
import { notFound } from '../api/errors.js';
import type { EventHandlers } from '../client/informer.js';
import type { apps, KObject } from '../api/types.js';
import { enqueueFor, enqueueOwner, generationChanged, ownerKey, updateStatusIfChanged } from './handlers.js';

/** A handler source whose events the test fires, and a queue that records what was added. */
function wire(): { source: { addHandler(h: EventHandlers<KObject>): void }; fire: Required<EventHandlers<KObject>>; added: string[] } {
  const hs: EventHandlers<KObject>[] = [];
  const added: string[] = [];
  return {
    source: { addHandler: (h) => hs.push(h) },
    fire: {
      onAdd: (o) => hs.forEach((h) => h.onAdd?.(o)),
      onUpdate: (a, b) => hs.forEach((h) => h.onUpdate?.(a, b)),
      onDelete: (o) => hs.forEach((h) => h.onDelete?.(o)),
    },
    added,
  };
}
const queue = (added: string[]) => ({ add: (k: string) => added.push(k), addAfter: () => undefined });

const rs = (generation = 1): KObject => ({ kind: 'ReplicaSet', metadata: { namespace: 'ns', name: 'web', generation } });
const pod = (ownerKind: string, controller = true): KObject => ({
  kind: 'Pod',
  metadata: { namespace: 'ns', name: 'web-1', ownerReferences: [{ apiVersion: 'apps/v1', kind: ownerKind, name: 'web', uid: 'u', controller }] },
});

describe('enqueueFor', () => {
  it('enqueues the object on add, update and delete, forgetting it first on delete', () => {
    const { source, fire, added } = wire();
    const forgot: string[] = [];
    enqueueFor(source, queue(added), { forget: (k) => forgot.push(k) });
    fire.onAdd(rs());
    fire.onUpdate(rs(), rs());
    fire.onDelete(rs());
    expect(added).toEqual(['ns/web', 'ns/web', 'ns/web']);
    expect(forgot).toEqual(['ns/web']);
  });

  it('skips deletes when asked and filters updates by a predicate', () => {
    const { source, fire, added } = wire();
    enqueueFor(source, queue(added), { deletes: false, updated: generationChanged });
    fire.onUpdate(rs(1), rs(1));
    fire.onUpdate(rs(1), rs(2));
    fire.onDelete(rs());
    expect(added).toEqual(['ns/web']);
  });
});

describe('enqueueOwner', () => {
  it('enqueues the controlling owner of the kind, and only it', () => {
    const { source, fire, added } = wire();
    const created: string[] = [];
    enqueueOwner(source, 'ReplicaSet', queue(added), { created: (k) => created.push(k) });
    fire.onAdd(pod('ReplicaSet'));
    fire.onUpdate(pod('ReplicaSet'), pod('ReplicaSet'));
    fire.onDelete(pod('ReplicaSet'));
    fire.onAdd(pod('StatefulSet'));
    fire.onAdd(pod('ReplicaSet', false));
    expect(added).toEqual(['ns/web', 'ns/web', 'ns/web']);
    expect(created).toEqual(['ns/web']);
    expect(ownerKey(pod('Job'), 'Job')).toBe('ns/web');
  });
});

describe('updateStatusIfChanged', () => {
  const obj: apps.ReplicaSet = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { namespace: 'ns', name: 'web' }, status: { replicas: 1 } };
  const same = (a: apps.ReplicaSetStatus | undefined, b: apps.ReplicaSetStatus) => a?.replicas === b.replicas;

  it('writes a changed status on a copy, and nothing when it is the same', async () => {
    const updateStatus = vi.fn().mockResolvedValue({});
    const client = { updateStatus } as unknown as ApiClient;
    expect(await updateStatusIfChanged(client, 'replicasets', obj, { replicas: 1 }, same)).toBe(false);
    expect(await updateStatusIfChanged(client, 'replicasets', obj, { replicas: 2 }, same)).toBe(true);
    expect(updateStatus).toHaveBeenCalledTimes(1);
    expect(updateStatus).toHaveBeenCalledWith('replicasets', expect.objectContaining({ status: { replicas: 2 } }));
    expect(obj.status).toEqual({ replicas: 1 });
  });

  it('ignores an object deleted meanwhile, not other failures', async () => {
    const gone = { updateStatus: vi.fn().mockRejectedValue(notFound('replicasets', 'web')) } as unknown as ApiClient;
    await expect(updateStatusIfChanged(gone, 'replicasets', obj, { replicas: 2 }, same)).resolves.toBe(true);
    const down = { updateStatus: vi.fn().mockRejectedValue(new Error('unavailable')) } as unknown as ApiClient;
    await expect(updateStatusIfChanged(down, 'replicasets', obj, { replicas: 2 }, same)).rejects.toThrow('unavailable');
  });
});
