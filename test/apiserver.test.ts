/**
 * The apiserver against a real etcd: compare-and-swap, create-if-absent, watch resume and "gone",
 * validation. One control plane for the file; each test works in its own namespace.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiClient } from '../client/api.js';
import { isAlreadyExists, isConflict, isGone, ApiError } from '../api/errors.js';
import { Informer } from '../client/informer.js';
import { nullLogger } from '../component-base/log.js';
import { apiService } from '../client/proto.js';
import { retryOnConflict } from '../client/retry.js';
import type { core } from '../api/types.js';
import { DEFAULT_MAX_MUTATING_INFLIGHT } from '../apiserver/config.js';
import { Storage } from '../apiserver/storage.js';
import { startControlPlane, type TestControlPlane } from './support/apiserver.js';
import { waitFor } from './support/wait.js';

/** The CA bundle the ServiceAccount controller keeps in every namespace, as Kubernetes does. */
const ROOT_CA = 'kube-root-ca.crt';

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

  it('gives a create with generateName another name when the generated one is taken, and fails after 8 taken names', async () => {
    const ns = await namespace();
    const generated = (): core.ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'g-', namespace: ns } });
    // The apiserver draws each of a suffix's 5 characters with Math.random: 0 draws 'bbbbb' every time.
    const realRandom = Math.random;
    const random = vi.spyOn(Math, 'random').mockReturnValue(0);
    try {
      expect((await client.create('configmaps', generated())).metadata?.name).toBe('g-bbbbb');
      const perCreate = random.mock.calls.length; // the suffix's draws and whatever else a request draws
      random.mockClear();
      const err = await client.create('configmaps', generated()).catch((e: unknown) => e);
      expect(isAlreadyExists(err)).toBe(true);
      expect(random.mock.calls.length).toBeGreaterThanOrEqual(8 * 5); // eight names tried
      // Only the first name collides now; the apiserver tries another instead of failing the create.
      random.mockClear();
      random.mockImplementation(() => (random.mock.calls.length <= perCreate ? 0 : realRandom()));
      const second = await client.create('configmaps', generated());
      expect(second.metadata?.name).toMatch(/^g-[b-z2-9]{5}$/);
      expect(second.metadata?.name).not.toBe('g-bbbbb');
    } finally {
      random.mockRestore();
    }
    expect((await client.list('configmaps', { namespace: ns })).items.filter((c) => c.metadata?.name?.startsWith('g-'))).toHaveLength(2);
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
        // Only 'w': the namespace also gets its kube-root-ca.crt ConfigMap, at a moment of its own.
        if (ev.type === 'BOOKMARK' || ev.object.metadata?.name !== 'w') continue;
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
      if (ev.type === 'BOOKMARK' || ev.object.metadata?.name !== 'w') continue;
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
    // Every namespace holds kube-root-ca.crt (the ServiceAccount controller's); nothing else was stored.
    expect((await client.list('configmaps', { namespace: ns })).items.map((c) => c.metadata?.name).filter((n) => n !== ROOT_CA)).toEqual([]);
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
    const names = (await client.list('configmaps', { namespace: ns })).items.map((c) => c.metadata?.name).filter((n) => n !== ROOT_CA).sort();
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

    const names = async (): Promise<string[]> => (await client.list('configmaps', { namespace: ns })).items.map((c) => c.metadata?.name ?? '').filter((n) => n !== ROOT_CA).sort();
    expect(await names()).toEqual(['good']);
    const err = (await client.get('configmaps', 'not-json', { namespace: ns }).catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.reason).toBe('InternalError');
    expect(err.message).toContain(`/registry/configmaps/${ns}/not-json`);

    // A corrupt value written while it runs is skipped by the watch cache; watchers and writes go on.
    const seen: string[] = [];
    const ctl = new AbortController();
    const watching = (async () => {
      for await (const ev of client.watch('configmaps', { namespace: ns, signal: ctl.signal })) if (ev.object.metadata?.name !== ROOT_CA) seen.push(`${ev.type} ${ev.object.metadata?.name}`);
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

/** One REST call to the in-process apiserver; the reply body parsed as JSON. */
async function rest(method: string, path: string, body?: string, contentType = 'application/json'): Promise<{ status: number; body: Record<string, unknown>; warning: string | null }> {
  const res = await fetch(`http://127.0.0.1:${cp.apiserver.httpPort}${path}`, { method, body, headers: body === undefined ? {} : { 'content-type': contentType } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, warning: res.headers.get('warning') };
}

describe('typed decoding', () => {
  const affinityPod = (ns: string): object => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'poison', namespace: ns },
    spec: { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: 'x' } }, containers: [{ name: 'c', image: 'x' }] },
  });
  const deployment = (ns: string, replicas: unknown = 1): object => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd', namespace: ns },
    spec: { replicas, selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
  });

  it('answers 400 for a pod whose affinity list is a string (REST JSON, REST YAML, gRPC) and stores nothing', async () => {
    const ns = await namespace();
    const json = await rest('POST', `/api/v1/namespaces/${ns}/pods`, JSON.stringify(affinityPod(ns)));
    expect(json.status).toBe(400);
    expect(json.body).toMatchObject({
      kind: 'Status',
      reason: 'BadRequest',
      code: 400,
      message:
        'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field NodeAffinity.spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution of type []v1.PreferredSchedulingTerm',
    });

    const yaml = await rest('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: three\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec: {containers: [{name: c, image: x}]}\n`, 'application/yaml');
    expect(yaml.status).toBe(400);
    expect(yaml.body.message).toBe('Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32');

    const viaClient = await client.create('pods', affinityPod(ns) as core.Pod).catch((e: unknown) => e);
    expect((viaClient as ApiError).reason).toBe('BadRequest');
    expect((viaClient as ApiError).details?.causes?.[0]?.field).toBe('spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution');
    const Ctor = apiService();
    const raw = new Ctor(cp.address, grpc.credentials.createInsecure()) as grpc.Client & Record<string, (req: unknown, cb: (err: grpc.ServiceError | null) => void) => void>;
    const grpcErr = await new Promise<grpc.ServiceError | null>((resolve) => raw.Create({ resource: 'pods', namespace: ns, object: JSON.stringify(affinityPod(ns)) }, (err) => resolve(err)));
    raw.close();
    expect(grpcErr?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(grpcErr?.details).toContain('cannot unmarshal string into Go struct field NodeAffinity');

    expect((await client.list('pods', { namespace: ns })).items).toEqual([]);
    expect((await client.list('deployments', { namespace: ns })).items).toEqual([]);
  });

  it('checks the merged result of updates and every patch type, keeping the stored object', async () => {
    const ns = await namespace();
    const created = await client.create('deployments', deployment(ns) as never);
    const base = `/apis/apps/v1/namespaces/${ns}/deployments/d`;
    const put = await rest('PUT', base, JSON.stringify({ ...deployment(ns), spec: { ...(deployment(ns) as { spec: object }).spec, paused: 'yes' } }));
    expect(put.status).toBe(400);
    expect(put.body.message).toContain('cannot unmarshal string into Go struct field DeploymentSpec.spec.paused of type bool');
    for (const [type, body] of [
      ['application/merge-patch+json', '{"spec":{"replicas":"3"}}'],
      ['application/strategic-merge-patch+json', '{"spec":{"template":{"spec":{"containers":[{"name":"c","ports":[{"containerPort":"80"}]}]}}}}'],
      ['application/json-patch+json', '[{"op":"replace","path":"/spec/selector","value":["a"]}]'],
      ['application/apply-patch+yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  minReadySeconds: {}\n'],
    ]) {
      const res = await rest('PATCH', `${base}?fieldManager=t`, body, type);
      expect(res.status, type).toBe(400);
      expect(res.body.reason, type).toBe('BadRequest');
      expect(res.body.message, type).toMatch(/^Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal /);
    }
    const status = await client.update('deployments', { ...created, status: { replicas: 'many' } } as never, { subresource: 'status' }).catch((e: unknown) => e);
    expect((status as ApiError).reason).toBe('BadRequest');
    const stored = await client.get('deployments', 'd', { namespace: ns });
    expect(stored.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
  });

  it('keeps fieldValidation on top: Strict refuses unknown fields, Warn warns, Ignore stores; nulls are dropped', async () => {
    const ns = await namespace();
    const body = (name: string): string => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: null }, data: { a: 'b' }, bogus: 1 });
    const strict = await rest('POST', `/api/v1/namespaces/${ns}/configmaps?fieldValidation=Strict`, body('strict'));
    expect(strict.status).toBe(400);
    expect(strict.body.message).toContain('strict decoding error: unknown field "bogus"');
    const warn = await rest('POST', `/api/v1/namespaces/${ns}/configmaps?fieldValidation=Warn`, body('warn'));
    expect(warn.status).toBe(201);
    expect(warn.warning).toContain('unknown field \\"bogus\\"');
    const ignore = await rest('POST', `/api/v1/namespaces/${ns}/configmaps?fieldValidation=Ignore`, body('ignore'));
    expect(ignore.status).toBe(201);
    expect(ignore.warning).toBeNull();
    expect((await client.get('configmaps', 'ignore', { namespace: ns })).metadata).not.toHaveProperty('labels');
    const typed = await rest('POST', `/api/v1/namespaces/${ns}/configmaps?fieldValidation=Ignore`, JSON.stringify({ metadata: { name: 'typed' }, data: { a: 1 } }));
    expect(typed.status).toBe(400);
    expect(typed.body.message).toContain('json: cannot unmarshal number into Go struct field ConfigMap.data of type string');
  });
});

describe('protected namespaces and the kubernetes Service', () => {
  it('refuses to delete the system namespaces with 403 and leaves them active', async () => {
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      const res = await rest('DELETE', `/api/v1/namespaces/${name}`);
      expect(res.status, name).toBe(403);
      expect(res.body).toMatchObject({ kind: 'Status', reason: 'Forbidden', code: 403, message: `namespaces "${name}" is forbidden: this namespace may not be deleted` });
      const err = await client.delete('namespaces', name).catch((e: unknown) => e);
      expect((err as ApiError).reason, name).toBe('Forbidden');
      const ns = await client.get('namespaces', name);
      expect(ns.metadata?.deletionTimestamp, name).toBeUndefined();
      expect(ns.status?.phase, name).toBe('Active');
    }
  });

  it('puts default/kubernetes (Service and Endpoints) back when they are deleted', async () => {
    const before = await client.get('services', 'kubernetes', { namespace: 'default' });
    await client.delete('services', 'kubernetes', { namespace: 'default' });
    const back = await waitFor(() => client.get('services', 'kubernetes', { namespace: 'default' }).then((s) => (s.metadata?.uid !== before.metadata?.uid ? s : undefined)), {
      timeoutMs: 5_000,
      what: 'the kubernetes service to be re-created',
    });
    expect(back.spec?.clusterIP).toBe('10.96.0.1');
    expect(back.spec?.ports?.[0]).toMatchObject({ name: 'https', port: 443, targetPort: cp.apiserver.httpPort });

    // Again and again: the Service's address is released just after the delete that the controller sees first,
    // so its re-create can find the address still held (3 of 40 deletes waited for the 10 s sync before).
    for (let i = 0; i < 20; i++) {
      const uid = (await client.get('services', 'kubernetes', { namespace: 'default' })).metadata?.uid;
      await client.delete('services', 'kubernetes', { namespace: 'default' });
      await waitFor(() => client.get('services', 'kubernetes', { namespace: 'default' }).then((s) => s.metadata?.uid !== uid || undefined, () => undefined), {
        timeoutMs: 3_000,
        intervalMs: 20,
        what: `the kubernetes service to be re-created after delete ${i + 2}`,
      });
    }

    await client.delete('endpoints', 'kubernetes', { namespace: 'default' });
    const ep = await waitFor(() => client.get('endpoints', 'kubernetes', { namespace: 'default' }).catch(() => undefined), { timeoutMs: 5_000, what: 'the kubernetes endpoints to be re-created' });
    expect(ep.subsets?.[0]?.addresses?.map((a) => a.ip)).toEqual(['127.0.0.1']);
  });
});

describe('secrets, endpoints and service addresses', () => {
  const causes = (e: unknown): string[] => ((e as ApiError).details?.causes ?? []).map((c) => `${c.field}: ${c.message}`);

  it('merges stringData into data on create, update and patch, and never stores it', async () => {
    const ns = await namespace();
    const s = await client.create('secrets', { metadata: { name: 's', namespace: ns }, data: { a: 'b2xk' }, stringData: { a: 'new', b: 'x' } });
    expect(s.data).toEqual({ a: 'bmV3', b: 'eA==' });
    expect(s).not.toHaveProperty('stringData');
    const updated = await client.update('secrets', { ...s, stringData: { c: 'y' } });
    expect(updated.data).toEqual({ a: 'bmV3', b: 'eA==', c: 'eQ==' });
    const patched = await client.patch('secrets', 's', { stringData: { b: 'z' } }, { namespace: ns });
    expect(patched.data).toEqual({ a: 'bmV3', b: 'eg==', c: 'eQ==' });
    const stored = await client.get('secrets', 's', { namespace: ns });
    expect(stored).not.toHaveProperty('stringData');
    expect(stored.data).toEqual(patched.data);

    const bad = await client.create('secrets', { metadata: { name: 'bad', namespace: ns }, data: { key: 'not base64!' } }).catch((e: unknown) => e);
    expect((bad as ApiError).reason).toBe('Invalid');
    expect(causes(bad)).toEqual(['data[key]: Invalid value: "<redacted>": illegal base64 data at input byte 3']);
  });

  it('refuses Endpoints and EndpointSlice addresses that are not IPs', async () => {
    const ns = await namespace();
    const ep = await client.create('endpoints', { metadata: { name: 'e', namespace: ns }, subsets: [{ addresses: [{ ip: '1.2.3.4 -j ACCEPT' }], ports: [{ port: 80 }] }] }).catch((e: unknown) => e);
    expect((ep as ApiError).reason).toBe('Invalid');
    expect(causes(ep)).toEqual(['subsets[0].addresses[0].ip: Invalid value: "1.2.3.4 -j ACCEPT": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)']);
    const slice = await client.create('endpointslices', { metadata: { name: 'e', namespace: ns }, addressType: 'IPv4', endpoints: [{ addresses: ['$(reboot)'] }] }).catch((e: unknown) => e);
    expect(causes(slice)).toEqual(['endpoints[0].addresses[0]: Invalid value: "$(reboot)": must be a valid IPv4 address']);
    expect((await client.list('endpoints', { namespace: ns })).items).toEqual([]);
  });

  it('keeps a ClusterIP allocated when the Service write fails with an unknown outcome', async () => {
    const ns = await namespace();
    const storage = cp.apiserver.storage;
    const original = storage.create.bind(storage);
    // The write reaches etcd, then the reply is lost (a deadline): the caller cannot know it was stored.
    storage.create = async (key, obj) => {
      const rev = await original(key, obj);
      if (key.includes('/services/')) throw new ApiError('ServiceUnavailable', 'etcd unavailable: etcd did not answer within 30000 ms');
      return rev;
    };
    let err: unknown;
    try {
      err = await client.create('services', { metadata: { name: 'ambiguous', namespace: ns }, spec: { clusterIP: '10.96.200.1', ports: [{ port: 80 }] } }).catch((e: unknown) => e);
    } finally {
      storage.create = original;
    }
    expect((err as ApiError).reason).toBe('ServiceUnavailable');
    const stored = await client.get('services', 'ambiguous', { namespace: ns });
    expect(stored.spec?.clusterIP).toBe('10.96.200.1');
    const second = await client.create('services', { metadata: { name: 'second', namespace: ns }, spec: { clusterIP: '10.96.200.1', ports: [{ port: 80 }] } }).catch((e: unknown) => e);
    expect(causes(second).join()).toContain('provided IP is already allocated');
  });
});

describe('--event-ttl', () => {
  it('Events expire after the TTL (an etcd lease on their keys; watchers see them deleted), other objects stay', async () => {
    const short = await startControlPlane({ eventTtlMs: 2000 });
    try {
      const c = short.client;
      const ev = (name: string): core.Event => ({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace: 'default' },
        involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' },
        reason: 'Tested',
        message: 'expires',
        type: 'Normal',
      });
      const ctl = new AbortController();
      const deleted: string[] = [];
      const list = await c.list('events', { namespace: 'default' });
      const watching = (async () => {
        for await (const e of c.watch('events', { namespace: 'default', resourceVersion: list.metadata?.resourceVersion, signal: ctl.signal })) if (e.type === 'DELETED') deleted.push(e.object.metadata?.name ?? '');
      })().catch(() => undefined);
      const t0 = Date.now();
      await c.create('events', ev('e1'));
      await c.create('events', ev('e2'));
      await c.create('configmaps', configMap('default', 'stays'));
      expect((await c.list('events', { namespace: 'default' })).items.map((e) => e.metadata?.name).sort()).toEqual(['e1', 'e2']);
      await waitFor(async () => (await c.list('events', { namespace: 'default' })).items.length === 0, { timeoutMs: 10_000, intervalMs: 100, what: 'the events to expire' });
      // Not before the TTL (a lease is granted for ttl + a reuse window of 5 %, 0 s at this ttl).
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
      await waitFor(() => deleted.length === 2, { timeoutMs: 5000, what: 'the watcher to see both deletions' });
      expect(deleted.sort()).toEqual(['e1', 'e2']);
      expect((await c.get('configmaps', 'stays', { namespace: 'default' })).metadata?.name).toBe('stays');
      ctl.abort();
      await watching;
    } finally {
      await short.stop();
    }
  });
});

describe('metrics', () => {
  async function metric(name: string, labels: Record<string, string>): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${cp.apiserver.adminPort}/metrics`)).text();
    const want = Object.entries(labels);
    let sum = 0;
    for (const line of text.split('\n')) {
      const m = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
      if (!m || m[1] !== name) continue;
      const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
      if (want.every(([k, v]) => have[k] === v)) sum += Number(m[3]);
    }
    return sum;
  }

  it('counts requests by verb, resource and code on the admin port, as kube-apiserver names them', async () => {
    const ns = await namespace();
    // Roles: nothing else in this control plane creates one, so the counts move by this test's requests only.
    const tpl = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'm1', namespace: ns }, rules: [] };
    const before = await metric('apiserver_request_total', { verb: 'POST', resource: 'roles', code: '201' });
    const conflictsBefore = await metric('apiserver_request_total', { verb: 'POST', resource: 'roles', code: '409' });
    await client.create('roles', tpl as never);
    await expect(client.create('roles', tpl as never)).rejects.toThrow(/already exists/);
    expect(await metric('apiserver_request_total', { verb: 'POST', resource: 'roles', code: '201' })).toBe(before + 1);
    expect(await metric('apiserver_request_total', { verb: 'POST', resource: 'roles', code: '409' })).toBe(conflictsBefore + 1);
    expect(await metric('apiserver_request_duration_seconds_count', { verb: 'POST', resource: 'roles' })).toBe(before + conflictsBefore + 2);
    expect(await metric('apiserver_storage_objects', { resource: 'namespaces' })).toBeGreaterThanOrEqual(4);
    expect(await metric('apiserver_flowcontrol_request_concurrency_limit', {})).toBe(DEFAULT_MAX_MUTATING_INFLIGHT);
  });

  it('counts a request for a resource that does not exist as "unknown", not under its name', async () => {
    const res = await fetch(`http://127.0.0.1:${cp.apiserver.httpPort}/api/v1/namespaces/default/no-such-things-${Date.now()}`);
    expect(res.status).toBe(404);
    const text = await (await fetch(`http://127.0.0.1:${cp.apiserver.adminPort}/metrics`)).text();
    expect(text).not.toMatch(/no-such-things/);
  });
});
