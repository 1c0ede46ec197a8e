/**
 * @kubernetes/client-node 1.4 (the official JavaScript client) as a second real client next to kubectl:
 * its informer, Watch, Exec, Attach, PortForward, Log and generic object API against the REST facade of
 * an in-process apiserver (real etcd) with one kubelet running real Docker containers.
 */
import { PassThrough, Readable } from 'node:stream';
import {
  Attach,
  CoreV1Api,
  Exec,
  KubeConfig,
  KubernetesObjectApi,
  Log,
  makeInformer,
  PatchStrategy,
  PortForward,
  setHeaderOptions,
  Watch,
  type KubernetesObject,
  type V1ConfigMap,
  type V1ConfigMapList,
  type V1Status,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Storage } from '../apiserver/storage.js';
import { busybox, running, startNodeLab, type NodeLab } from './support/nodelab.js';
import { waitFor } from './support/wait.js';
import { startOperator } from '../docs/examples/operator/operator.js';

const NS = 'clientnode';
let lab: NodeLab;
let kc: KubeConfig;
let core: CoreV1Api;
let objects: KubernetesObjectApi;

/** Everything written to a stream, as text. */
function sink(): PassThrough & { text: () => string } {
  const s = new PassThrough();
  let text = '';
  s.on('data', (b: Buffer) => (text += b.toString()));
  return Object.assign(s, { text: () => text });
}

const cm = (name: string, data: Record<string, string>, labels?: Record<string, string>): V1ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: NS, ...(labels ? { labels } : {}) },
  data,
});

/** The HTTP status and Status body of a failed client-node call. */
async function failure(p: Promise<unknown>): Promise<{ code: number; status: V1Status }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code?: number; body?: unknown };
    return { code: e.code ?? 0, status: (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as V1Status };
  }
  throw new Error('the call succeeded');
}

beforeAll(async () => {
  lab = await startNodeLab({ cluster: `clientnode-test-${process.pid}`, node: 'cn-node', namespace: NS });
  kc = new KubeConfig();
  kc.loadFromFile(lab.kc.path);
  core = kc.makeApiClient(CoreV1Api);
  objects = KubernetesObjectApi.makeApiClient(kc);
  await Promise.all([
    lab.cp.client.create('pods', lab.pod('shell', { containers: [busybox('main', 'exec sleep 3600')] })),
    lab.cp.client.create('pods', lab.pod('logger', { containers: [busybox('main', 'i=0; while true; do i=$((i+1)); echo line-$i; sleep 0.2; done')] })),
    lab.cp.client.create('pods', lab.pod('web', { containers: [busybox('web', 'mkdir -p /www && echo hello-from-pod > /www/index.html && exec httpd -f -p 8080 -h /www')] })),
    lab.cp.client.create('pods', lab.pod('att', { restartPolicy: 'Never', containers: [busybox('main', 'read l; echo got:$l; echo bye >&2', { stdin: true })] })),
  ]);
});

afterAll(async () => {
  await lab?.stop();
});

describe('Exec', () => {
  it("separates stdout ('hi\\n') from stderr and reports success", async () => {
    await lab.waitPod('shell', 'running', running);
    const out = sink();
    const err = sink();
    const status = await new Promise<V1Status>((resolve, reject) => {
      new Exec(kc).exec(NS, 'shell', 'main', ['sh', '-c', 'echo hi; echo oops >&2'], out, err, null, false, resolve).catch(reject);
    });
    expect(status.status).toBe('Success');
    expect(out.text()).toBe('hi\n');
    expect(err.text()).toBe('oops\n');
  });

  it('reports a non-zero exit as NonZeroExitCode with the code as its ExitCode cause', async () => {
    await lab.waitPod('shell', 'running', running);
    const status = await new Promise<V1Status>((resolve, reject) => {
      new Exec(kc).exec(NS, 'shell', 'main', ['sh', '-c', 'exit 7'], sink(), sink(), null, false, resolve).catch(reject);
    });
    expect(status).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '7' }] } });
  });

  it("passes stdin and closes it when the client's stream ends", async () => {
    await lab.waitPod('shell', 'running', running);
    const out = sink();
    const status = await new Promise<V1Status>((resolve, reject) => {
      new Exec(kc).exec(NS, 'shell', 'main', ['sh', '-c', 'wc -l'], out, sink(), Readable.from(['a\n', 'b\n', 'c\n']), false, resolve).catch(reject);
    });
    expect(status.status).toBe('Success');
    expect(out.text().trim()).toBe('3');
  });
});

describe('Attach', () => {
  it("talks to the container's own stdin and stdout", async () => {
    await lab.waitPod('att', 'running', running);
    const out = sink();
    const err = sink();
    const input = new PassThrough();
    const ws = await new Attach(kc).attach(NS, 'att', 'main', out, err, input, false);
    input.write('hello\n');
    await waitFor(() => out.text().includes('got:hello'), { what: 'the echo of the attached stdin', timeoutMs: 15_000 });
    await waitFor(() => err.text().includes('bye'), { what: 'stderr of the attached container', timeoutMs: 15_000 });
    ws.close();
  });
});

describe('PortForward', () => {
  it("carries an HTTP request to the pod's port and the response back", async () => {
    await lab.waitPod('web', 'running', running);
    const out = sink();
    const err = sink();
    const input = new PassThrough();
    const ws = await new PortForward(kc).portForward(NS, 'web', [8080], out, err, input);
    input.write('GET /index.html HTTP/1.0\r\nHost: web\r\n\r\n');
    await waitFor(() => out.text().includes('hello-from-pod'), { what: 'the HTTP response through the port-forward', timeoutMs: 15_000 });
    expect(out.text()).toMatch(/^HTTP\/1\.[01] 200 OK/);
    expect(err.text()).toBe('');
    (ws as { close(): void }).close();
  });
});

describe('Log', () => {
  it('follow: lines written after the request keep arriving until aborted', async () => {
    await lab.waitPod('logger', 'running', running);
    const out = sink();
    const ctl = await new Log(kc).log(NS, 'logger', 'main', out, { follow: true, tailLines: 1 });
    try {
      const first = Number(await waitFor(() => /line-(\d+)/.exec(out.text())?.[1], { what: 'the first followed line' }));
      await waitFor(() => out.text().includes(`line-${first + 5}\n`), { what: 'lines after the first', timeoutMs: 10_000 });
    } finally {
      ctl.abort();
    }
  });
});

describe('makeInformer', () => {
  it('sees add, update and delete, resumes after an apiserver restart, and relists after 410 Gone', async () => {
    const path = `/api/v1/namespaces/${NS}/configmaps`;
    let lists = 0;
    const listFn = (): Promise<V1ConfigMapList> => {
      lists++;
      return core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'app=inf' });
    };
    const informer = makeInformer<V1ConfigMap>(kc, path, listFn, 'app=inf');
    const seen: string[] = [];
    const record = (verb: string) => (o: V1ConfigMap) => seen.push(`${verb} ${o.metadata?.name} ${o.data?.v ?? ''}`);
    informer.on('add', record('add'));
    informer.on('update', record('update'));
    informer.on('delete', record('delete'));
    // client-node stops on an error and leaves the restart to its user (its README's pattern).
    let running = true;
    const errors: string[] = [];
    informer.on('error', (err: unknown) => {
      const message = String((err as Error)?.message ?? err);
      errors.push(message);
      // A start aborts the informer's current request, which reports that abort as an error: not a failure.
      if (running && !/aborted/i.test(message)) setTimeout(() => void informer.start().catch(() => undefined), 200);
    });
    await core.createNamespacedConfigMap({ namespace: NS, body: cm('inf-a', { v: '1' }, { app: 'inf' }) });
    await informer.start();
    try {
      await waitFor(() => seen.includes('add inf-a 1'), { what: 'the listed object' });
      await core.patchNamespacedConfigMap({ name: 'inf-a', namespace: NS, body: { data: { v: '2' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      await core.createNamespacedConfigMap({ namespace: NS, body: cm('inf-b', { v: '1' }, { app: 'inf' }) });
      await core.deleteNamespacedConfigMap({ name: 'inf-b', namespace: NS });
      await waitFor(() => seen.includes('delete inf-b 1'), { what: 'the watched delete' });
      expect(seen).toEqual(['add inf-a 1', 'update inf-a 2', 'add inf-b 1', 'delete inf-b 1']);

      // An apiserver restart ends the watch; the informer resumes from its resourceVersion, without a list.
      await lab.cp.restartApiserver();
      await core.patchNamespacedConfigMap({ name: 'inf-a', namespace: NS, body: { data: { v: '3' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      await waitFor(() => seen.includes('update inf-a 3'), { what: 'the update after the restart', timeoutMs: 20_000 });
      expect(lists, `errors: ${errors.join('; ')}`).toBe(1);

      // While the informer is stopped its resourceVersion is compacted away: the watch answers 410
      // and the informer relists, reporting the object deleted meanwhile.
      await informer.stop();
      const before = seen.length;
      const errorsBefore = errors.length;
      await core.deleteNamespacedConfigMap({ name: 'inf-a', namespace: NS });
      await core.createNamespacedConfigMap({ namespace: NS, body: cm('inf-c', { v: '1' }, { app: 'inf' }) });
      const storage = new Storage([lab.cp.etcd.endpoint]);
      await storage.compact(await storage.currentRevision());
      storage.close();
      await lab.cp.restartApiserver();
      await informer.start();
      await waitFor(() => seen.length >= before + 2, { what: 'the relist after 410', timeoutMs: 20_000 });
      expect(seen.slice(before).sort()).toEqual(['add inf-c 1', 'delete inf-a 3']);
      expect(informer.list(NS).map((o) => o.metadata?.name)).toEqual(['inf-c']);
      // The relist happened (client-node lists on every start; a watch error while the restarted apiserver
      // comes up makes the handler above start it again, which may list once more on a busy machine).
      expect(lists, `errors after the restart: ${errors.slice(errorsBefore).join('; ') || 'none'}`).toBeGreaterThanOrEqual(2);
    } finally {
      running = false;
      await informer.stop();
    }
  });
});

describe('Watch', () => {
  it('allowWatchBookmarks: bookmarks carry a resourceVersion at or past the last event', async () => {
    const list = await core.listNamespacedConfigMap({ namespace: NS });
    const events: { type: string; rv: string }[] = [];
    const ctl = await new Watch(kc).watch(
      `/api/v1/namespaces/${NS}/configmaps`,
      { allowWatchBookmarks: true, resourceVersion: list.metadata?.resourceVersion },
      (type, obj: KubernetesObject) => events.push({ type, rv: obj.metadata?.resourceVersion ?? '' }),
      () => undefined,
    );
    try {
      await core.createNamespacedConfigMap({ namespace: NS, body: cm('bm', { v: '1' }) });
      const bookmark = await waitFor(() => events.find((e) => e.type === 'BOOKMARK'), { what: 'a bookmark', timeoutMs: 15_000 });
      const added = events.find((e) => e.type === 'ADDED');
      expect(added).toBeDefined();
      expect(Number(bookmark.rv)).toBeGreaterThanOrEqual(Number(added?.rv));
    } finally {
      ctl.abort();
    }
  });
});

describe('KubernetesObjectApi and CoreV1Api', () => {
  it('creates and patches with JSON merge, JSON patch and strategic merge', async () => {
    await objects.create(cm('patched', { a: '1', b: '2' }));
    await objects.patch(cm('patched', { b: null as unknown as string, c: '3' }), undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
    await core.patchNamespacedConfigMap(
      { name: 'patched', namespace: NS, body: [{ op: 'replace', path: '/data/a', value: 'one' }, { op: 'add', path: '/data/d', value: '4' }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    await objects.patch(cm('patched', { e: '5' }, { tier: 'x' }), undefined, undefined, undefined, undefined, PatchStrategy.StrategicMergePatch);
    const got = await core.readNamespacedConfigMap({ name: 'patched', namespace: NS });
    expect(got.data).toEqual({ a: 'one', c: '3', d: '4', e: '5' });
    expect(got.metadata?.labels).toEqual({ tier: 'x' });
  });

  it('server-side apply: field managers own fields, a conflict is refused, force takes the field over', async () => {
    await objects.patch(cm('applied', { owned: 'by-a' }), undefined, undefined, 'manager-a', undefined, PatchStrategy.ServerSideApply);
    const conflict = await failure(objects.patch(cm('applied', { owned: 'by-b' }), undefined, undefined, 'manager-b', undefined, PatchStrategy.ServerSideApply));
    expect(conflict.code).toBe(409);
    expect(conflict.status.reason).toBe('Conflict');
    expect(conflict.status.message).toContain('manager-a');
    await objects.patch(cm('applied', { owned: 'by-b' }), undefined, undefined, 'manager-b', true, PatchStrategy.ServerSideApply);
    const got = await core.readNamespacedConfigMap({ name: 'applied', namespace: NS });
    expect(got.data).toEqual({ owned: 'by-b' });
    const managers = (got.metadata?.managedFields ?? []).map((m) => m.manager);
    expect(managers).toContain('manager-b');
  });

  it('dryRun=All answers the object and stores nothing', async () => {
    const answered = await objects.create(cm('dry', { x: '1' }), undefined, 'All');
    expect(answered.metadata?.name).toBe('dry');
    const missing = await failure(core.readNamespacedConfigMap({ name: 'dry', namespace: NS }));
    expect(missing.code).toBe(404);
  });

  it('labelSelector and fieldSelector filter on the server', async () => {
    await core.createNamespacedConfigMap({ namespace: NS, body: cm('sel-1', {}, { team: 'red' }) });
    await core.createNamespacedConfigMap({ namespace: NS, body: cm('sel-2', {}, { team: 'blue' }) });
    const red = await core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'team in (red)' });
    expect(red.items.map((o) => o.metadata?.name)).toEqual(['sel-1']);
    const byName = await core.listNamespacedConfigMap({ namespace: NS, fieldSelector: 'metadata.name=sel-2' });
    expect(byName.items.map((o) => o.metadata?.name)).toEqual(['sel-2']);
    const pods = await core.listNamespacedPod({ namespace: NS, fieldSelector: `spec.nodeName=${lab.node},metadata.name=shell` });
    expect(pods.items.map((o) => o.metadata?.name)).toEqual(['shell']);
  });

  it('pagination: limit and continue walk every item once', async () => {
    for (let i = 0; i < 5; i++) await core.createNamespacedConfigMap({ namespace: NS, body: cm(`page-${i}`, {}, { pages: 'yes' }) });
    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'pages=yes', limit: 2, _continue: token });
      names.push(...page.items.map((o) => o.metadata?.name ?? ''));
      token = page.metadata?._continue || undefined;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(names).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
  });
});

describe('the example operator (docs/examples/operator)', () => {
  it('writes a derived ConfigMap for each labelled one, follows changes and removes it with its source', async () => {
    const stop = await startOperator({ kubeConfig: kc, namespace: NS });
    try {
      await core.createNamespacedConfigMap({ namespace: NS, body: cm('greeting', { name: 'world' }, { 'example.kubelab.io/derive': 'true' }) });
      await core.createNamespacedConfigMap({ namespace: NS, body: cm('ignored', { name: 'nobody' }) });
      const derived = async (): Promise<V1ConfigMap | undefined> => core.readNamespacedConfigMap({ name: 'greeting-derived', namespace: NS }).catch(() => undefined);
      await waitFor(async () => (await derived())?.data?.greeting === 'hello, world', { what: 'the derived ConfigMap' });
      await core.patchNamespacedConfigMap({ name: 'greeting', namespace: NS, body: { data: { name: 'kubelab' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      await waitFor(async () => (await derived())?.data?.greeting === 'hello, kubelab', { what: 'the derived ConfigMap to follow its source' });
      expect((await core.readNamespacedConfigMap({ name: 'ignored-derived', namespace: NS }).catch(() => undefined)) ?? null).toBeNull();
      await core.deleteNamespacedConfigMap({ name: 'greeting', namespace: NS });
      await waitFor(async () => (await derived()) === undefined, { what: 'the derived ConfigMap to go with its source' });
    } finally {
      await stop();
    }
  });
});
