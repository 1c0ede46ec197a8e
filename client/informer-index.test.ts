import { describe, expect, it } from 'vitest';
import type { ApiClient } from './api.js';
import { Informer } from './informer.js';
import type { KObject } from '../api/types.js';

/** An API that lists the given objects and then keeps the watch open without events. */
function api(items: KObject[]): ApiClient {
  return {
    list: () => Promise.resolve({ items, metadata: { resourceVersion: '5' } }),
    watch: async function* (_r: string, opts: { signal?: AbortSignal }) {
      await new Promise<void>((resolve) => opts.signal?.addEventListener('abort', () => resolve(), { once: true }));
      yield* [];
    },
  } as unknown as ApiClient;
}

describe('Informer indexes', () => {
  it('an index function that throws on a malformed object leaves it out of that index only; the informer syncs', async () => {
    const good = { metadata: { name: 'good', namespace: 'ns', ownerReferences: [{ uid: 'u1', controller: true }] } } as KObject;
    // Written around the apiserver's validation: ownerReferences is not a list.
    const bad = { metadata: { name: 'bad', namespace: 'ns', ownerReferences: { uid: 'u1' } } } as unknown as KObject;
    const inf = new Informer(api([good, bad]), 'pods');
    inf.addIndex('owner', (o) => (o.metadata?.ownerReferences ?? []).map((r) => r.uid));
    const ctl = new AbortController();
    inf.start(ctl.signal);
    await inf.waitForSync(ctl.signal);
    expect(inf.list().map((o) => o.metadata?.name).sort()).toEqual(['bad', 'good']);
    expect(inf.byIndex('owner', 'u1').map((o) => o.metadata?.name)).toEqual(['good']);
    expect(inf.byNamespace('ns')).toHaveLength(2);
    // An index added later skips it the same way.
    inf.addIndex('first-owner', (o) => [String(o.metadata?.ownerReferences?.[0]?.uid)]);
    expect(inf.byIndex('first-owner', 'u1').map((o) => o.metadata?.name)).toEqual(['good']);
    ctl.abort();
  });
});
