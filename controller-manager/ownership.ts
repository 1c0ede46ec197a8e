/**
 * Adoption and release of dependents through the API (the ControllerRefManager of Kubernetes).
 * Both are compare-and-swap on the cached resourceVersion: a conflict is an error the runner retries.
 */
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { ApiClient } from '../client/api.js';
import { isNotFound } from '../api/errors.js';
import type { Selector } from '../api/selectors.js';
import type { KObject } from '../api/types.js';
import { claimAction } from './podutil.js';

export async function adopt(client: ApiClient, resource: string, obj: KObject, ref: OwnerReference): Promise<KObject> {
  const refs = [...(obj.metadata?.ownerReferences ?? []).filter((r) => r.uid !== ref.uid), ref];
  return client.patch(resource, obj.metadata?.name ?? '', { metadata: { ownerReferences: refs, resourceVersion: obj.metadata?.resourceVersion } }, {
    namespace: obj.metadata?.namespace,
  });
}

export async function release(client: ApiClient, resource: string, obj: KObject, ownerUid: string): Promise<void> {
  const refs = (obj.metadata?.ownerReferences ?? []).filter((r) => r.uid !== ownerUid);
  try {
    await client.patch(resource, obj.metadata?.name ?? '', { metadata: { ownerReferences: refs.length ? refs : null, resourceVersion: obj.metadata?.resourceVersion } }, {
      namespace: obj.metadata?.namespace,
    });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/**
 * Claims objects for an owner: returns those it owns after adopting matching orphans and releasing
 * its own non-matching ones. `candidates` come from the cache and are not mutated.
 */
export async function claim<T extends KObject>(
  client: ApiClient,
  resource: string,
  owner: KObject,
  ownerRef: OwnerReference,
  selector: Selector,
  candidates: T[],
): Promise<T[]> {
  const uid = owner.metadata?.uid ?? '';
  const deleting = Boolean(owner.metadata?.deletionTimestamp);
  const out: T[] = [];
  for (const c of candidates) {
    switch (claimAction(c, uid, selector, deleting)) {
      case 'keep':
        out.push(c);
        break;
      case 'adopt':
        try {
          out.push((await adopt(client, resource, c, ownerRef)) as T);
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
        break;
      case 'release':
        await release(client, resource, c, uid);
        break;
      default:
        break;
    }
  }
  return out;
}
