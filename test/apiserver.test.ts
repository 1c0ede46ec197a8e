/**
 * The apiserver against a real etcd: compare-and-swap, create-if-absent, watch resume and "gone",
 * validation. One control plane for the file; each test works in its own namespace.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../client/api.js';
import { isAlreadyExists, isConflict, isGone, ApiError } from '../client/errors.js';
import { Informer } from '../client/informer.js';
import { nullLogger } from '../client/log.js';
import { apiService } from '../client/proto.js';
import { retryOnConflict } from '../client/retry.js';
import type { core } from '../client/types.js';
import { Storage } from '../apiserver/storage.js';
import { startControlPlane, type TestControlPlane } from './support/apiserver.js';
import { waitFor } from './support/wait.js';

let cp: TestControlPlane;
let client: ApiClient;
let nsCounter = 0;

beforeAll(async () => {
  cp = await startControlPlane();
  client = cp.client;
});
afterAll(async () => {
  await cp?.stop();
});

async function namespace(): Promise<string> {
  const name = `t${++nsCounter}-${Date.now().toString(36)}`;
  await client.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}

function configMap(ns: string, name: string, data: Record<string, string> = {}): core.ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data };
}

async function counter(ns: string, name: string): Promise<number> {
  const cm = await client.get('configmaps', name, { namespace: ns });
  return Number(cm.data?.n ?? '0');
}

describe('optimistic concurrency', () => {
  it('rejects an update with a stale resourceVersion as a conflict and keeps the stored value', async () => {
    const ns = await namespace();
    const created = await client.create('configmaps', configMap(ns, 'c', { n: '0' }));
    await client.update('configmaps', { ...created, data: { n: '1' } });
    const err = await client.update('configmaps', { ...created, data: { n: '2' } }).catch((e: unknown) => e);
    expect(isConflict(err)).toBe(true);
    expect((err as ApiError).message).toContain('the object has been modified');
    expect(await counter(ns, 'c')).toBe(1);
  });

  it('lets exactly one of 50 concurrent creates of one name succeed', async () => {
    const ns = await namespace();
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => client.create('configmaps', configMap(ns, 'same', { who: String(i) }))));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(failed.every((r) => isAlreadyExists(r.reason))).toBe(true);
    const stored = await client.get('configmaps', 'same', { namespace: ns });
    expect(stored.data?.who).toBe((ok[0] as PromiseFulfilledResult<core.ConfigMap>).value.data?.who);
  });

  it('loses no update across 50 concurrent read-modify-write increments with retry on conflict', async () => {
    const ns = await namespace();
    await client.create('configmaps', configMap(ns, 'ctr', { n: '0' }));
    await Promise.all(
      Array.from({ length: 50 }, () =>
        retryOnConflict(async () => {
          const cm = await client.get('configmaps', 'ctr', { namespace: ns });
          await client.update('configmaps', { ...cm, data: { n: String(Number(cm.data?.n) + 1) } });
        }, 200),
      ),
    );
    expect(await counter(ns, 'ctr')).toBe(50);
  });
});

describe('watch', () => {
  it('resumes a broken stream from the last resourceVersion and sees every change once, in order', async () => {
    const ns = await namespace();
    const created = await client.create('configmaps', configMap(ns, 'w', { n: '0' }));
    const seen: number[] = [];
    let lastRv = created.metadata?.resourceVersion ?? '';
    const ctl = new AbortController();
    const first = (async () => {
      for await (const ev of client.watch('configmaps', { namespace: ns, resourceVersion: lastRv, signal: ctl.signal })) {
        if (ev.type === 'BOOKMARK') continue;
        seen.push(Number(ev.object.data?.n));
        lastRv = ev.object.metadata?.resourceVersion ?? lastRv;
        if (seen.length === 10) ctl.abort();
      }
    })();
    for (let i = 1; i <= 10; i++) {
      const cm = await client.get('configmaps', 'w', { namespace: ns });
      await client.update('configmaps', { ...cm, data: { n: String(i) } });
    }
    await first;
    // The stream is gone; 100 more writes happen before the watcher comes back.
    for (let i = 11; i <= 110; i++) {
      const cm = await client.get('configmaps', 'w', { namespace: ns });
      await client.update('configmaps', { ...cm, data: { n: String(i) } });
    }
    const ctl2 = new AbortController();
    for await (const ev of client.watch('configmaps', { namespace: ns, resourceVersion: lastRv, signal: ctl2.signal })) {
      if (ev.type === 'BOOKMARK') continue;
      seen.push(Number(ev.object.data?.n));
      if (seen.length === 110) ctl2.abort();
    }
    expect(seen).toEqual(Array.from({ length: 110 }, (_, i) => i + 1));
  });

  it('keeps an informer exact across an apiserver restart: every change once, in order', async () => {
    const ns = await namespace();
    await client.create('configmaps', configMap(ns, 'r', { n: '0' }));
    const informer = new Informer(client, 'configmaps', { namespace: ns, logger: nullLogger() });
    const seen: number[] = [];
    informer.addHandler({ onUpdate: (_o, n) => seen.push(Number(n.data?.n)) });
    const ctl = new AbortController();
    informer.start(ctl.signal);
    await informer.waitForSync();
    const writer = new ApiClient(cp.address, { retries: 20 });
    const write = async (i: number): Promise<void> => {
      await retryOnConflict(async () => {
        const cm = await writer.get('configmaps', 'r', { namespace: ns });
        await writer.update('configmaps', { ...cm, data: { n: String(i) } });
      });
    };
    for (let i = 1; i <= 20; i++) await write(i);
    await waitFor(() => seen.length >= 20, { what: 'the first 20 updates', timeoutMs: 10_000 });
    await cp.restartApiserver();
    for (let i = 21; i <= 40; i++) await write(i);
    await waitFor(() => seen.length >= 40, { what: 'the 20 updates after the restart', timeoutMs: 20_000 });
    ctl.abort();
    writer.close();
    expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(informer.relists).toBe(1);
  });

  it('answers "gone" for a compacted revision, and an informer relists to match the store', async () => {
    const ns = await namespace();
    for (let i = 0; i < 5; i++) await client.create('configmaps', configMap(ns, `g${i}`));
    const informer = new Informer(client, 'configmaps', { namespace: ns, logger: nullLogger() });
    const deleted: string[] = [];
    informer.addHandler({ onDelete: (o) => deleted.push(o.metadata?.name ?? '') });
    const ctl = new AbortController();
    informer.start(ctl.signal);
    await informer.waitForSync();
    const oldRv = informer.lastResourceVersion;

    // While the apiserver is down, another apiserver changes the store and etcd is compacted.
    await cp.apiserver.stop();
    const other = await startControlPlane({ etcd: cp.etcd });
    await other.client.delete('configmaps', 'g0', { namespace: ns });
    await other.client.delete('configmaps', 'g1', { namespace: ns });
    await other.client.create('configmaps', configMap(ns, 'fresh'));
    const storage = new Storage([cp.etcd.endpoint]);
    await storage.compact(await storage.currentRevision());
    storage.close();
    await other.stop();
    await cp.restartApiserver();

    const err = await (async () => {
      for await (const _ of client.watch('configmaps', { namespace: ns, resourceVersion: oldRv })) void _;
    })().catch((e: unknown) => e);
    expect(isGone(err)).toBe(true);

    await waitFor(() => informer.get(`${ns}/fresh`), { what: 'the informer to relist', timeoutMs: 20_000 });
    const store = await client.list('configmaps', { namespace: ns });
    expect(informer.list().map((o) => o.metadata?.name).sort()).toEqual(store.items.map((o) => o.metadata?.name).sort());
    expect(deleted.sort()).toEqual(['g0', 'g1']);
    expect(informer.relists).toBe(2);
    ctl.abort();
  });

  it('filters on the server: a watch on spec.nodeName=a is never sent pods of node b', async () => {
    const ns = await namespace();
    const got: string[] = [];
    const ctl = new AbortController();
    const done = (async () => {
      for await (const ev of client.watch('pods', { namespace: ns, fieldSelector: 'spec.nodeName=node-a', signal: ctl.signal })) {
        if (ev.type === 'BOOKMARK') continue;
        got.push(`${ev.type} ${ev.object.metadata?.name}`);
        if (got.length === 1) ctl.abort();
      }
    })();
    const pod = (name: string, node: string): core.Pod => ({
      apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns }, spec: { nodeName: node, containers: [{ name: 'c', image: 'kubelab/busybox' }] },
    });
    await client.create('pods', pod('on-b', 'node-b'));
    await client.create('pods', pod('on-a', 'node-a'));
    await done;
    expect(got).toEqual(['ADDED on-a']);
  });
});

describe('validation', () => {
  const causes = (e: unknown): string[] => ((e as ApiError).details?.causes ?? []).map((c) => `${c.field}: ${c.message}`);

  it('rejects bad objects naming each field, and stores nothing', async () => {
    const ns = await namespace();
    const before = (await client.list('pods', { namespace: ns })).items.length;
    const badName = await client.create('pods', { metadata: { name: 'Bad_Name', namespace: ns }, spec: { containers: [{ name: 'c', image: 'x' }] } }).catch((e: unknown) => e);
    expect((badName as ApiError).reason).toBe('Invalid');
    expect(causes(badName).join()).toContain('metadata.name: Invalid value: "Bad_Name"');

    const badLabel = await client.create('pods', { metadata: { name: 'p', namespace: ns, labels: { 'a b': 'c' } }, spec: { containers: [{ name: 'c', image: 'x' }] } }).catch((e: unknown) => e);
    expect(causes(badLabel).join()).toContain('metadata.labels');

    const dup = await client.create('pods', { metadata: { name: 'p', namespace: ns }, spec: { containers: [{ name: 'c', image: 'x' }, { name: 'c', image: 'y' }] } }).catch((e: unknown) => e);
    expect(causes(dup)).toContain('spec.containers[1].name: Duplicate value: "c"');

    const noImage = await client.create('pods', { metadata: { name: 'p', namespace: ns }, spec: { containers: [{ name: 'c' } as core.Container] } }).catch((e: unknown) => e);
    expect(causes(noImage)).toContain('spec.containers[0].image: Required value');

    const negative = await client
      .create('deployments', {
        metadata: { name: 'd', namespace: ns },
        spec: { replicas: -1, selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
      })
      .catch((e: unknown) => e);
    expect(causes(negative)).toContain('spec.replicas: Invalid value: -1: must be greater than or equal to 0');

    const unknownKind = await client.create('widgets', { metadata: { name: 'w', namespace: ns } }).catch((e: unknown) => e);
    expect((unknownKind as ApiError).reason).toBe('NotFound');

    const big = await client.create('configmaps', configMap(ns, 'big', { blob: 'x'.repeat(2 * 1024 * 1024) })).catch((e: unknown) => e);
    expect((big as ApiError).reason).toBe('RequestEntityTooLarge');
    expect(causes(big).join()).toContain('metadata: Too long');

    // Malformed JSON sent on the wire by a client that does not use ApiClient.
    const Ctor = apiService();
    const raw = new Ctor(cp.address, grpc.credentials.createInsecure()) as grpc.Client & Record<string, (req: unknown, cb: (err: grpc.ServiceError | null) => void) => void>;
    const malformed = await new Promise<grpc.ServiceError | null>((resolve) => raw.Create({ resource: 'pods', namespace: ns, object: '{"metadata": ' }, (err) => resolve(err)));
    raw.close();
    expect(malformed?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(malformed?.details).toContain('not valid JSON');

    expect((await client.list('pods', { namespace: ns })).items.length).toBe(before);
    expect((await client.list('configmaps', { namespace: ns })).items.length).toBe(0);
  });

  it('rejects an invalid update and keeps the stored object', async () => {
    const ns = await namespace();
    const cm = await client.create('configmaps', configMap(ns, 'keep', { a: '1' }));
    const err = await client.update('configmaps', { ...cm, metadata: { ...cm.metadata, labels: { '-bad': 'x' } } }).catch((e: unknown) => e);
    expect((err as ApiError).reason).toBe('Invalid');
    const stored = await client.get('configmaps', 'keep', { namespace: ns });
    expect(stored.metadata?.resourceVersion).toBe(cm.metadata?.resourceVersion);
    expect(stored.metadata?.labels).toBeUndefined();
  });
});

describe('server-owned metadata and deletion', () => {
  it('sets uid/creationTimestamp, bumps generation only on spec change, and defaults like Kubernetes', async () => {
    const ns = await namespace();
    const d = await client.create('deployments', {
      metadata: { name: 'web', namespace: ns },
      spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'kubelab/busybox' }] } } },
    });
    expect(d.metadata?.generation).toBe(1);
    expect(d.spec?.replicas).toBe(1);
    expect(d.spec?.strategy?.rollingUpdate?.maxSurge).toBe('25%');
    expect(d.spec?.template.spec?.containers[0].imagePullPolicy).toBe('Always');
    const labelled = await client.patch('deployments', 'web', { metadata: { labels: { x: 'y' } } }, { namespace: ns });
    expect(labelled.metadata?.generation).toBe(1);
    const scaled = await client.patch('deployments', 'web', { spec: { replicas: 3 } }, { namespace: ns });
    expect(scaled.metadata?.generation).toBe(2);
  });

  it('deletes a bound pod gracefully: deletionTimestamp first, gone after a zero-grace delete', async () => {
    const ns = await namespace();
    await client.create('pods', { metadata: { name: 'p', namespace: ns }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x' }] } });
    const terminating = await client.delete('pods', 'p', { namespace: ns });
    expect(terminating.metadata?.deletionTimestamp).toBeTruthy();
    expect(terminating.metadata?.deletionGracePeriodSeconds).toBe(30);
    await client.delete('pods', 'p', { namespace: ns, gracePeriodSeconds: 0 });
    await expect(client.get('pods', 'p', { namespace: ns })).rejects.toMatchObject({ reason: 'NotFound' });
  });

  it('allocates distinct ClusterIPs and NodePorts under concurrent creates', async () => {
    const ns = await namespace();
    const svcs = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        client.create('services', { metadata: { name: `s${i}`, namespace: ns }, spec: { type: 'NodePort', selector: { app: 'x' }, ports: [{ port: 80 }] } }),
      ),
    );
    const ips = new Set(svcs.map((s) => s.spec?.clusterIP));
    const ports = new Set(svcs.map((s) => s.spec?.ports?.[0].nodePort));
    expect(ips.size).toBe(20);
    expect(ports.size).toBe(20);
    for (const p of ports) expect(p).toBeGreaterThanOrEqual(30000);
  });

  it('refuses new objects in a namespace that is being deleted', async () => {
    const ns = await namespace();
    await client.delete('namespaces', ns);
    const err = await client.create('configmaps', configMap(ns, 'late')).catch((e: unknown) => e);
    expect((err as ApiError).reason).toBe('Forbidden');
  });
});

describe('etcd outage', () => {
  it('answers 503 naming etcd while etcd is down, keeps what was stored, and writes again once it is back', async () => {
    const ns = await namespace();
    await client.create('configmaps', configMap(ns, 'before'));
    await cp.etcd.restart(async () => {
      const err = (await client.create('configmaps', configMap(ns, 'during')).catch((e: unknown) => e)) as ApiError;
      expect(err).toBeInstanceOf(ApiError);
      expect(err.reason).toBe('ServiceUnavailable');
      expect(err.message).toMatch(/etcd/);
    });
    // The next write after etcd is back reconnects (a create may see etcd still starting: retry until it answers).
    await waitFor(async () => (await client.create('configmaps', configMap(ns, 'after')).then(() => true, (e: unknown) => isAlreadyExists(e))) || undefined, { timeoutMs: 20_000, what: 'a create after etcd restarted' });
    const names = (await client.list('configmaps', { namespace: ns })).items.map((c) => c.metadata?.name).sort();
    expect(names).toEqual(['after', 'before']);
  });
});

describe('corrupt values in etcd', () => {
  it('starts with values that are not objects of their resource, leaves them out of lists and watches, and names them on a get', async () => {
    const ns = await namespace();
    await client.create('configmaps', configMap(ns, 'good'));
    // The running apiserver's etcd client (a restart makes a new one).
    const etcd = () => cp.apiserver.storage.etcd;
    const put = (name: string, value: string) => etcd().put(`/registry/configmaps/${ns}/${name}`).value(value).exec();
    await put('not-json', '{"kind": "ConfigMap", "metadata": ');
    await put('array', '[1, 2, 3]');
    await put('wrong-kind', JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'wrong-kind', namespace: ns } }));
    await cp.restartApiserver();

    const names = async (): Promise<string[]> => (await client.list('configmaps', { namespace: ns })).items.map((c) => c.metadata?.name ?? '').sort();
    expect(await names()).toEqual(['good']);
    const err = (await client.get('configmaps', 'not-json', { namespace: ns }).catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.reason).toBe('InternalError');
    expect(err.message).toContain(`/registry/configmaps/${ns}/not-json`);

    // A corrupt value written while it runs is skipped by the watch cache; watchers and writes go on.
    const seen: string[] = [];
    const ctl = new AbortController();
    const watching = (async () => {
      for await (const ev of client.watch('configmaps', { namespace: ns, signal: ctl.signal })) seen.push(`${ev.type} ${ev.object.metadata?.name}`);
    })().catch(() => undefined);
    await waitFor(() => seen.includes('ADDED good'), { what: 'the watch to list good' });
    await put('late', 'garbage');
    await client.create('configmaps', configMap(ns, 'after'));
    await waitFor(() => seen.includes('ADDED after'), { what: 'the watch to see the create after the corrupt value' });
    expect(seen).toEqual(['ADDED good', 'ADDED after']);
    expect(await names()).toEqual(['after', 'good']);
    ctl.abort();
    await watching;
    for (const name of ['not-json', 'array', 'wrong-kind', 'late']) await etcd().delete().key(`/registry/configmaps/${ns}/${name}`).exec();
  });
});
