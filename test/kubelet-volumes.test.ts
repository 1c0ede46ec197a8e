/**
 * The kubelet's static pods and volumes against a real apiserver (in-process, real etcd) and real Docker:
 * static pods with mirror pods, PVC volumes that outlive their pod, subPath, readOnly, downwardAPI and
 * projected volumes, hostPath scoped to the node. Two in-process kubelets (two node names) share one
 * control plane; everything is labelled io.kubelab.cluster=<unique name> and removed in afterAll.
 */
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNotFound } from '../api/errors.js';
import { nullLogger } from '../component-base/log.js';
import type { core } from '../api/types.js';
import { compileKubeletConfig, type KubeletOptions } from '../kubelet/config.js';
import { MIRROR_ANNOTATION } from '../kubelet/kubelet.js';
import { LABELS } from '../kubelet/runtime/types.js';
import { startKubelet, type RunningKubelet } from '../kubelet/start.js';
import { testKubeletOptions } from './support/kubelet.js';
import { startControlPlane, type TestControlPlane } from './support/apiserver.js';
import { CLUSTER_LABEL, docker, removeByLabel, requireImages } from './support/docker.js';
import { waitFor } from './support/wait.js';

const CLUSTER = `kubelet-volumes-${process.pid}`;
const NODE_A = 'kv-node-a';
const NODE_B = 'kv-node-b';
const BUSYBOX = 'kubelab/busybox:latest';

let cp: TestControlPlane;
let staticDir: string;
let gate: ApiGate;
let kubeletA: Promise<RunningKubelet>;
let kubeletB: RunningKubelet;
const kubelets: Promise<RunningKubelet>[] = [];
const ctl = new AbortController();
let nsCounter = 0;

/**
 * A TCP proxy in front of the apiserver that starts "down" (every connection is dropped at once), so
 * a kubelet can boot while the API is unreachable and be connected later.
 */
interface ApiGate {
  address: string;
  open(): void;
  close(): Promise<void>;
}

async function startGate(target: string): Promise<ApiGate> {
  const [host, port] = target.split(':');
  let up = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    if (!up) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(port), host);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const p = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    address: `127.0.0.1:${p}`,
    open: () => {
      up = true;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function kubeletOptions(nodeName: string, extra: KubeletOptions = {}): KubeletOptions {
  return testKubeletOptions(cp.address, CLUSTER, nodeName, extra);
}

/** A fresh namespace; `privileged` labels it so Pod Security lets hostPath pods in, as a Kubernetes user must. */
async function newNamespace(opts: { privileged?: boolean } = {}): Promise<string> {
  const name = `kv-${++nsCounter}`;
  const labels = opts.privileged ? { 'pod-security.kubernetes.io/enforce': 'privileged' } : undefined;
  await cp.client.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...(labels ? { labels } : {}) } });
  return name;
}

function pod(name: string, ns: string, node: string, spec: Partial<core.PodSpec> & { containers: core.Container[] }, meta: Partial<core.Pod['metadata']> = {}): core.Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, ...meta },
    spec: { nodeName: node, terminationGracePeriodSeconds: 1, restartPolicy: 'Never', ...spec },
  };
}

const bb = (name: string, script: string, extra: Partial<core.Container> = {}): core.Container => ({
  name,
  image: BUSYBOX,
  imagePullPolicy: 'Never',
  command: ['sh', '-c', script],
  ...extra,
});

async function waitPhase(ns: string, name: string, phase: string, timeoutMs = 20_000): Promise<core.Pod> {
  return waitFor(
    async () => {
      const p = await cp.client.get('pods', name, { namespace: ns });
      return p.status?.phase === phase ? p : undefined;
    },
    { timeoutMs, what: `pod ${ns}/${name} ${phase}` },
  );
}

async function waitGone(ns: string, name: string, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    async () => {
      try {
        await cp.client.get('pods', name, { namespace: ns });
        return undefined;
      } catch (err) {
        if (isNotFound(err)) return true;
        throw err;
      }
    },
    { timeoutMs, what: `pod ${ns}/${name} gone` },
  );
}

/** The container's output, through the node's kubelet (what `kubectl logs` shows). */
async function logs(k: RunningKubelet, ns: string, podName: string, container: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${k.port}/containerLogs/${ns}/${podName}/${container}`);
  const text = await res.text();
  if (!res.ok) throw new Error(`logs: ${res.status} ${text}`);
  return text;
}

/** Runs a pod to completion and returns the output of its (single) container `c`. */
async function runToCompletion(k: RunningKubelet, p: core.Pod): Promise<string> {
  const ns = p.metadata?.namespace ?? '';
  const name = p.metadata?.name ?? '';
  await cp.client.create('pods', p);
  const done = await waitPhase(ns, name, 'Succeeded');
  expect(done.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(0);
  return logs(k, ns, name, p.spec?.containers[0]?.name ?? '');
}

async function dockerContainers(labels: string[]): Promise<{ Id: string; State: string; Labels: Record<string, string> }[]> {
  return docker().listContainers({ all: true, filters: JSON.stringify({ label: [`${CLUSTER_LABEL}=${CLUSTER}`, ...labels] }) });
}

const STATIC_MANIFEST = `apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: default
  labels:
    app: static-web
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ${BUSYBOX}
    imagePullPolicy: Never
    command: ["sh", "-c", "echo static-up; exec sleep 3600"]
`;

beforeAll(async () => {
  await requireImages(BUSYBOX, 'kubelab/pause:latest');
  cp = await startControlPlane();
  staticDir = await mkdtemp(join(tmpdir(), 'kubelab-static-'));
  await writeFile(join(staticDir, 'web.yaml'), STATIC_MANIFEST);
  gate = await startGate(cp.address);
  // Node A boots while the apiserver is unreachable; its start completes once the gate opens (test 1).
  kubeletA = startKubelet(compileKubeletConfig(kubeletOptions(NODE_A, { apiserver: gate.address, staticPodPath: staticDir, fileCheckFrequencyMs: 1000 })), ctl.signal, { logger: nullLogger() });
  kubelets.push(kubeletA);
  const b = startKubelet(compileKubeletConfig(kubeletOptions(NODE_B)), ctl.signal, { logger: nullLogger() });
  kubelets.push(b);
  kubeletB = await b;
});

afterAll(async () => {
  gate?.open();
  ctl.abort();
  for (const k of kubelets) await (await k.catch(() => undefined))?.stop();
  await gate?.close();
  await removeByLabel(CLUSTER_LABEL, CLUSTER);
  if (staticDir) await rm(staticDir, { recursive: true, force: true });
  await cp?.stop();
});

/** Node A, once connected (test 1 opens the gate; later tests work on their own too). */
async function nodeA(): Promise<RunningKubelet> {
  gate.open();
  return kubeletA;
}

describe('kubelet static pods and volumes', () => {
  it('runs a static pod without the apiserver, mirrors it once connected, and removes both with the manifest', async () => {
    const staticLabels = [`${LABELS.node}=${NODE_A}`, `${LABELS.podName}=web-${NODE_A}`, `${LABELS.container}=app`];
    // The apiserver is unreachable for node A: the static pod still runs.
    await waitFor(async () => (await dockerContainers(staticLabels)).find((c) => c.State === 'running'), { timeoutMs: 20_000, what: 'static pod running in Docker' });
    await expect(cp.client.get('nodes', NODE_A)).rejects.toSatisfy(isNotFound);

    const k = await nodeA();
    const mirror = await waitFor(
      async () => {
        const p = await cp.client.get('pods', `web-${NODE_A}`, { namespace: 'default' }).catch(() => undefined);
        return p?.status?.phase === 'Running' ? p : undefined;
      },
      { timeoutMs: 20_000, what: 'mirror pod Running' },
    );
    expect(mirror.metadata?.annotations?.[MIRROR_ANNOTATION]).toBeTruthy();
    expect(mirror.metadata?.labels?.app).toBe('static-web');
    expect(mirror.spec?.nodeName).toBe(NODE_A);
    expect(await logs(k, 'default', `web-${NODE_A}`, 'app')).toContain('static-up');
    // The running container was not restarted when the API came back.
    expect(mirror.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    const [running] = await dockerContainers(staticLabels);

    // Deleting the mirror pod (kubectl delete pod) does not stop the static pod: the mirror comes back.
    await cp.client.delete('pods', `web-${NODE_A}`, { namespace: 'default' });
    const again = await waitFor(
      async () => {
        const p = await cp.client.get('pods', `web-${NODE_A}`, { namespace: 'default' }).catch(() => undefined);
        return p && p.metadata?.uid !== mirror.metadata?.uid && !p.metadata?.deletionTimestamp && p.status?.phase === 'Running' ? p : undefined;
      },
      { timeoutMs: 20_000, what: 'mirror pod recreated and Running' },
    );
    expect(again.metadata?.annotations?.[MIRROR_ANNOTATION]).toBe(mirror.metadata?.annotations?.[MIRROR_ANNOTATION]);
    expect((await dockerContainers(staticLabels)).map((c) => [c.Id, c.State])).toEqual([[running?.Id, 'running']]);

    await unlink(join(staticDir, 'web.yaml'));
    await waitFor(async () => ((await dockerContainers([`${LABELS.podName}=web-${NODE_A}`])).length === 0 ? true : undefined), {
      timeoutMs: 20_000,
      what: 'static pod containers removed',
    });
    await waitGone('default', `web-${NODE_A}`);
  });

  it('keeps the data of a PVC bound to a hostPath PV after its pod is deleted', async () => {
    const k = await nodeA();
    const ns = await newNamespace();
    const pvName = `kv-pv-${process.pid}`;
    const pv = await cp.client.create('persistentvolumes', {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: pvName },
      spec: {
        capacity: { storage: '1Gi' },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: 'manual',
        hostPath: { path: `/var/lib/kubelab/pv/${pvName}` },
        claimRef: { namespace: ns, name: 'data' },
      },
    });
    const pvc = await cp.client.create('persistentvolumeclaims', {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data', namespace: ns },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'manual', resources: { requests: { storage: '1Gi' } }, volumeName: pvName },
    });
    // Bound by hand, as the binder would.
    await cp.client.updateStatus('persistentvolumes', { ...pv, status: { phase: 'Bound' } });
    await cp.client.updateStatus('persistentvolumeclaims', { ...pvc, status: { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } } });

    const volumes = [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }];
    const mount = { volumeMounts: [{ name: 'data', mountPath: '/data' }] };
    const token = `persisted-${Date.now()}`;
    await runToCompletion(k, pod('writer', ns, NODE_A, { volumes, containers: [bb('w', `echo ${token} > /data/file`, mount)] }));
    await cp.client.delete('pods', 'writer', { namespace: ns });
    await waitGone(ns, 'writer');
    // The claim mounted read-only (volume source readOnly) still shows the data but refuses writes.
    const out = await runToCompletion(
      k,
      pod('reader', ns, NODE_A, {
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data', readOnly: true } }],
        containers: [bb('r', 'cat /data/file; touch /data/other 2>&1; echo "write-exit=$?"', mount)],
      }),
    );
    expect(out).toContain(token);
    expect(out).toContain('Read-only file system');
    expect(out).toMatch(/write-exit=[1-9]/);
  });

  it('mounts a subPath of an emptyDir, and a readOnly mount refuses writes', async () => {
    const k = await nodeA();
    const ns = await newNamespace();
    const script = [
      'echo via-subpath > /sub/f',
      'echo "whole=$(cat /all/nested/dir/f)"',
      'echo "top=$(ls /sub)"',
      'touch /ro/x 2>/tmp/err; echo "ro-exit=$?"; cat /tmp/err',
      'echo "ro-sees=$(cat /ro/nested/dir/f)"',
    ].join('; ');
    const out = await runToCompletion(
      k,
      pod('subpath', ns, NODE_A, {
        volumes: [{ name: 'work', emptyDir: {} }],
        containers: [
          bb('c', script, {
            volumeMounts: [
              { name: 'work', mountPath: '/all' },
              { name: 'work', mountPath: '/sub', subPath: 'nested/dir' },
              { name: 'work', mountPath: '/ro', readOnly: true },
            ],
          }),
        ],
      }),
    );
    expect(out).toContain('whole=via-subpath');
    expect(out).toContain('top=f');
    expect(out).toMatch(/ro-exit=[1-9]/);
    expect(out).toContain('Read-only file system');
    expect(out).toContain('ro-sees=via-subpath');
  });

  it('backs an emptyDir with medium Memory by a tmpfs of sizeLimit that the pod containers share', async () => {
    const k = await nodeA();
    const ns = await newNamespace();
    const token = `in-memory-${Date.now()}`;
    // The init container has exited before the app container starts: the tmpfs keeps its files between them.
    await cp.client.create(
      'pods',
      pod('tmpfs', ns, NODE_A, {
        volumes: [{ name: 'cache', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } }],
        initContainers: [
          bb('writer', `grep ' /cache ' /proc/mounts; echo ${token} > /cache/f; mkdir -p /cache/nested; echo nested-${token} > /cache/nested/g`, {
            volumeMounts: [{ name: 'cache', mountPath: '/cache' }],
          }),
        ],
        containers: [
          bb('reader', 'df -k /cache | tail -n 1; echo "read=$(cat /cache/f)"; echo "sub=$(cat /sub/g)"; grep " /sub " /proc/mounts', {
            volumeMounts: [
              { name: 'cache', mountPath: '/cache' },
              { name: 'cache', mountPath: '/sub', subPath: 'nested' },
            ],
          }),
        ],
      }),
    );
    await waitPhase(ns, 'tmpfs', 'Succeeded');
    const written = await logs(k, ns, 'tmpfs', 'writer');
    expect(written).toMatch(/^tmpfs \/cache tmpfs .*size=16384k/m);
    const read = await logs(k, ns, 'tmpfs', 'reader');
    expect(read).toMatch(/^tmpfs\s+16384\s/m);
    expect(read).toContain(`read=${token}`);
    expect(read).toContain(`sub=nested-${token}`);
    expect(read).toMatch(/^tmpfs \/sub tmpfs /m);
  });

  it('shows labels, annotations and name in a downwardAPI volume, and combines configMap, secret and downwardAPI in a projected volume', async () => {
    const k = await nodeA();
    const ns = await newNamespace();
    await cp.client.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: ns }, data: { greeting: 'hello-config' } });
    await cp.client.create('secrets', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'sec', namespace: ns },
      data: { password: Buffer.from('s3cret').toString('base64') },
    });
    const script = [
      'echo "--labels"; cat /podinfo/labels; echo',
      'echo "--annotations"; cat /podinfo/annotations; echo',
      'echo "name=$(cat /podinfo/name)"',
      'echo "greeting=$(cat /all/greeting)"',
      'echo "password=$(cat /all/password)"',
      'echo "namespace=$(cat /all/meta/ns)"',
      'echo "cpu-limit=$(cat /all/meta/cpu)"',
    ].join('; ');
    const out = await runToCompletion(
      k,
      pod(
        'downward',
        ns,
        NODE_A,
        {
          volumes: [
            {
              name: 'podinfo',
              downwardAPI: {
                items: [
                  { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
                  { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } },
                  { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
                ],
              },
            },
            {
              name: 'all',
              projected: {
                sources: [
                  { configMap: { name: 'cfg' } },
                  { secret: { name: 'sec', items: [{ key: 'password', path: 'password' }] } },
                  {
                    downwardAPI: {
                      items: [
                        { path: 'meta/ns', fieldRef: { fieldPath: 'metadata.namespace' } },
                        { path: 'meta/cpu', resourceFieldRef: { containerName: 'c', resource: 'limits.cpu', divisor: '1m' } },
                      ],
                    },
                  },
                ],
              },
            },
          ],
          containers: [
            bb('c', script, {
              resources: { limits: { cpu: '250m', memory: '64Mi' } },
              volumeMounts: [
                { name: 'podinfo', mountPath: '/podinfo' },
                { name: 'all', mountPath: '/all' },
              ],
            }),
          ],
        },
        { labels: { app: 'dw', tier: 'test' }, annotations: { note: 'hello-annotation' } },
      ),
    );
    expect(out).toContain('app="dw"');
    expect(out).toContain('tier="test"');
    expect(out).toContain('note="hello-annotation"');
    expect(out).toContain('name=downward');
    expect(out).toContain('greeting=hello-config');
    expect(out).toContain('password=s3cret');
    expect(out).toContain(`namespace=${ns}`);
    expect(out).toContain('cpu-limit=250');
  });

  it('updates a mounted ConfigMap under the running container (keys changed, added, removed); a subPath mount keeps its copy', async () => {
    const k = await nodeA();
    const ns = await newNamespace();
    await cp.client.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'site', namespace: ns }, data: { 'index.html': 'v1', extra: 'e' } });
    const show = 'echo "index=$(cat /site/index.html) extra=$(cat /site/extra 2>/dev/null || echo gone) new=$(cat /site/new 2>/dev/null || echo none) sub=$(cat /sub/index.html)"';
    await cp.client.create(
      'pods',
      pod('live', ns, NODE_A, {
        volumes: [{ name: 'site', configMap: { name: 'site' } }],
        containers: [
          bb('c', `while true; do ${show}; sleep 0.5; done`, {
            volumeMounts: [
              { name: 'site', mountPath: '/site' },
              { name: 'site', mountPath: '/sub/index.html', subPath: 'index.html' },
            ],
          }),
        ],
      }),
    );
    await waitFor(async () => (await logs(k, ns, 'live', 'c')).includes('index=v1 extra=e new=none sub=v1'), { what: 'the first contents', timeoutMs: 20_000 });
    const cm = await cp.client.get('configmaps', 'site', { namespace: ns });
    await cp.client.update('configmaps', { ...cm, data: { 'index.html': 'v2', new: 'n' } });
    // The lab preset syncs volumes every 5 s (Kubernetes: about a minute).
    await waitFor(async () => (await logs(k, ns, 'live', 'c')).includes('index=v2 extra=gone new=n sub=v1'), { what: 'the updated contents', timeoutMs: 20_000 });
    const live = await cp.client.get('pods', 'live', { namespace: ns });
    expect(live.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    await cp.client.delete('pods', 'live', { namespace: ns, gracePeriodSeconds: 0 });
  });

  it('scopes hostPath to the node: the same path on two nodes holds different data', async () => {
    const a = await nodeA();
    const ns = await newNamespace({ privileged: true });
    const path = `/kubelab-volumes-test-${process.pid}`;
    const spec = (script: string): Partial<core.PodSpec> & { containers: core.Container[] } => ({
      volumes: [{ name: 'h', hostPath: { path, type: 'DirectoryOrCreate' } }],
      containers: [bb('c', script, { volumeMounts: [{ name: 'h', mountPath: '/h' }] })],
    });
    await runToCompletion(a, pod('write-a', ns, NODE_A, spec(`echo from-${NODE_A} > /h/who`)));
    const read = 'cat /h/who 2>/dev/null || echo nothing';
    const [onA, onB] = await Promise.all([runToCompletion(a, pod('read-a', ns, NODE_A, spec(read))), runToCompletion(kubeletB, pod('read-b', ns, NODE_B, spec(read)))]);
    expect(onA.trim()).toBe(`from-${NODE_A}`);
    expect(onB.trim()).toBe('nothing');
  });
});
