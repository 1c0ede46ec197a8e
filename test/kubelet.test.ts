/**
 * The kubelet against a real apiserver (in-process, real etcd) and real Docker: pods on Docker's default
 * bridge, everything labelled io.kubelab.cluster=<unique name> and removed in afterAll.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { nullLogger } from '../component-base/log.js';
import type { core } from '../api/types.js';
import { compileKubeletConfig, type KubeletConfig } from '../kubelet/config.js';
import { startKubelet, type RunningKubelet } from '../kubelet/start.js';
import { startHollowNodes } from '../kubelet/hollow.js';
import { LABELS } from '../kubelet/runtime/types.js';
import { hostPathVolumeName } from '../kubelet/volumes.js';
import { testKubeletOptions } from './support/kubelet.js';
import { startControlPlane, type TestControlPlane } from './support/apiserver.js';
import { CLUSTER_LABEL, docker, removeByLabel, requireImages, startContainer, waitForExit, containerLogs, testLabels } from './support/docker.js';
import { waitFor } from './support/wait.js';

const CLUSTER = `kubelet-test-${process.pid}`;
const NODE = 'kt-node';
const BUSYBOX = 'kubelab/busybox:latest';

let cp: TestControlPlane;
let cfg: KubeletConfig;
let kubelet: RunningKubelet;
let ctl: AbortController;
let nsCounter = 0;

/** A fresh namespace; `privileged` labels it so Pod Security lets hostPath pods in, as a Kubernetes user must. */
async function newNamespace(opts: { privileged?: boolean } = {}): Promise<string> {
  const name = `kt-${++nsCounter}`;
  const labels = opts.privileged ? { 'pod-security.kubernetes.io/enforce': 'privileged' } : undefined;
  await cp.client.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...(labels ? { labels } : {}) } });
  return name;
}

function podSpec(name: string, ns: string, spec: Partial<core.PodSpec> & { containers: core.Container[] }, meta: Partial<core.Pod['metadata']> = {}): core.Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, ...meta },
    spec: { nodeName: NODE, terminationGracePeriodSeconds: 5, ...spec },
  };
}

const bb = (name: string, script: string, extra: Partial<core.Container> = {}): core.Container => ({
  name,
  image: BUSYBOX,
  imagePullPolicy: 'Never',
  command: ['sh', '-c', script],
  ...extra,
});

async function getPod(ns: string, name: string): Promise<core.Pod> {
  return cp.client.get('pods', name, { namespace: ns });
}

async function waitPod(ns: string, name: string, what: string, pred: (p: core.Pod) => boolean, timeoutMs = 30_000): Promise<core.Pod> {
  return waitFor(
    async () => {
      const p = await getPod(ns, name);
      return pred(p) ? p : undefined;
    },
    { timeoutMs, what: `pod ${ns}/${name} ${what}` },
  );
}

const cs = (p: core.Pod, name: string): core.ContainerStatus | undefined => p.status?.containerStatuses?.find((c) => c.name === name);
const ready = (p: core.Pod): boolean => p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

async function logs(ns: string, pod: string, container: string, query = ''): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${kubelet.port}/containerLogs/${ns}/${pod}/${container}${query}`);
  const text = await res.text();
  if (!res.ok) throw new Error(`logs: ${res.status} ${text}`);
  return text;
}

/** Runs a command through the kubelet's exec WebSocket (v5.channel.k8s.io); returns output and exit code. */
async function exec(ns: string, pod: string, container: string, command: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const q = command.map((c) => `command=${encodeURIComponent(c)}`).join('&');
  const ws = new WebSocket(`ws://127.0.0.1:${kubelet.port}/exec/${ns}/${pod}/${container}?${q}&stdout=true&stderr=true`, ['v5.channel.k8s.io']);
  let stdout = '';
  let stderr = '';
  let status: { status?: string; details?: { causes?: { message?: string }[] } } | undefined;
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (d: Buffer) => {
      const ch = d[0];
      const body = d.subarray(1).toString();
      if (ch === 1) stdout += body;
      else if (ch === 2) stderr += body;
      else if (ch === 3) status = JSON.parse(body) as typeof status;
    });
    ws.on('close', () => resolve());
    ws.on('error', reject);
  });
  const code = status?.status === 'Success' ? 0 : Number(status?.details?.causes?.[0]?.message ?? -1);
  return { stdout, stderr, code };
}

async function podContainers(uid: string): Promise<{ Id: string; State: string; Labels: Record<string, string> }[]> {
  return docker().listContainers({ all: true, filters: JSON.stringify({ label: [`${LABELS.podUid}=${uid}`] }) });
}

beforeAll(async () => {
  await requireImages(BUSYBOX, 'kubelab/pause:latest');
  cp = await startControlPlane();
  cfg = compileKubeletConfig(
    testKubeletOptions(cp.address, CLUSTER, NODE, { crashLoopBackoffInitialMs: 1000, crashLoopBackoffMaxMs: 4000, imagePullBackoffInitialMs: 2000 }),
  );
  ctl = new AbortController();
  kubelet = await startKubelet(cfg, ctl.signal, { logger: nullLogger() });
});

afterAll(async () => {
  ctl?.abort();
  await kubelet?.stop();
  await removeByLabel('io.kubelab.test', 'kubelet');
  await removeByLabel(CLUSTER_LABEL, CLUSTER);
  await cp?.stop();
});

describe('kubelet', () => {
  it('registers its node with a lease, addresses and the kubelet endpoint', async () => {
    const node = await cp.client.get('nodes', NODE);
    expect(node.status?.addresses).toContainEqual({ type: 'InternalIP', address: '127.0.0.1' });
    expect(node.status?.daemonEndpoints?.kubeletEndpoint?.Port).toBe(kubelet.port);
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(node.metadata?.labels?.['kubernetes.io/hostname']).toBe(NODE);
    const lease = await waitFor(() => cp.client.get('leases', NODE, { namespace: 'kube-node-lease' }), { what: 'node lease' });
    expect(lease.spec?.holderIdentity).toBe(NODE);
  });

  it('answers 400 to a malformed upgrade path, survives a broken WebSocket peer, and keeps serving', async () => {
    // Sends raw bytes on one connection and returns everything the kubelet sent back until it closed.
    const raw = (bytes: string | Buffer, after?: (s: Socket) => void): Promise<string> =>
      new Promise((resolve, reject) => {
        const sock = netConnect({ host: '127.0.0.1', port: kubelet.port }, () => {
          sock.write(bytes);
          after?.(sock);
        });
        let got = '';
        sock.on('data', (b: Buffer) => (got += b.toString('latin1')));
        sock.on('close', () => resolve(got));
        sock.on('error', reject);
        sock.setTimeout(10_000, () => sock.destroy(new Error(`no answer; got ${JSON.stringify(got)}`)));
      });
    const upgrade = (path: string, protocol: string): string =>
      `GET ${path} HTTP/1.1\r\nHost: kubelet\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`;

    for (const path of ['/portForward/%ZZ/x', '/portForward/ns/%E0%A4%A', '/exec/%ZZ/p/c?command=ls', '/attach/ns/p/%ZZ']) {
      const answer = await raw(upgrade(path, path.startsWith('/portForward') ? 'SPDY/3.1+portforward.k8s.io' : 'v5.channel.k8s.io'));
      expect(answer, path).toMatch(/^HTTP\/1\.1 400 /);
      expect(answer, path).toContain('malformed');
    }
    expect((await fetch(`http://127.0.0.1:${kubelet.port}/containerLogs/%ZZ/p/c`)).status).toBe(400);

    // A client that completes the handshake, then breaks the protocol (an unmasked frame): only its connection goes.
    const broken = await raw(upgrade('/exec/default/no-such-pod/c?command=sh', 'v5.channel.k8s.io'), (s) => {
      s.once('data', () => s.write(Buffer.from([0x82, 0x01, 0x00])));
    });
    expect(broken).toMatch(/^HTTP\/1\.1 101 /);

    expect(await (await fetch(`http://127.0.0.1:${kubelet.port}/healthz`)).text()).toBe('ok');
    expect((await fetch(`http://127.0.0.1:${kubelet.port}/containerLogs/default/no-such-pod/c`)).status).toBe(404);
  });

  it('runs two containers that talk over 127.0.0.1, and serves their logs', async () => {
    const ns = await newNamespace();
    await cp.client.create(
      'pods',
      podSpec('talk', ns, {
        containers: [
          bb('server', 'mkdir -p /www && echo hello-from-server > /www/index.html && exec httpd -f -p 8080 -h /www', { resources: { requests: { cpu: '250m' } } }),
          bb('client', 'until wget -qO- http://127.0.0.1:8080/; do sleep 0.2; done; exec sleep 3600'),
        ],
      }),
    );
    const p = await waitPod(ns, 'talk', 'Running and Ready', (x) => x.status?.phase === 'Running' && ready(x));
    expect(p.status?.podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(p.status?.hostIP).toBe('127.0.0.1');
    expect(p.status?.qosClass).toBe('Burstable');
    // CPU weight as Kubernetes gives it: 1024 per requested core; no request, the smallest (2), not Docker's 1024.
    const shares: Record<string, number> = {};
    for (const c of await podContainers(p.metadata?.uid ?? '')) {
      const name = c.Labels[LABELS.container];
      if (name === 'server' || name === 'client') shares[name] = (await docker().getContainer(c.Id).inspect()).HostConfig.CpuShares ?? 0;
    }
    expect(shares).toEqual({ server: 256, client: 2 });
    await waitFor(async () => (await logs(ns, 'talk', 'client')).includes('hello-from-server'), { what: 'client to log the server page' });
  });

  it('runs init containers in order before the app', async () => {
    const ns = await newNamespace();
    await cp.client.create(
      'pods',
      podSpec('init', ns, {
        volumes: [{ name: 'work', emptyDir: {} }],
        initContainers: [bb('one', 'echo one >> /work/order', { volumeMounts: [{ name: 'work', mountPath: '/work' }] }), bb('two', 'echo two >> /work/order', { volumeMounts: [{ name: 'work', mountPath: '/work' }] })],
        containers: [bb('app', 'cat /work/order; exec sleep 3600', { volumeMounts: [{ name: 'work', mountPath: '/work' }] })],
      }),
    );
    const p = await waitPod(ns, 'init', 'Running', (x) => x.status?.phase === 'Running');
    expect(p.status?.initContainerStatuses?.map((s) => s.state?.terminated?.reason)).toEqual(['Completed', 'Completed']);
    expect(p.status?.conditions?.find((c) => c.type === 'Initialized')?.status).toBe('True');
    await waitFor(async () => (await logs(ns, 'init', 'app')) === 'one\ntwo\n', { what: 'app to print the init order' });
  });

  it('restarts a container whose liveness probe fails, with a growing restartCount', async () => {
    const ns = await newNamespace();
    await cp.client.create(
      'pods',
      podSpec('live', ns, {
        terminationGracePeriodSeconds: 1,
        containers: [bb('app', 'exec sleep 3600', { livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 1, failureThreshold: 1 } })],
      }),
    );
    const p = await waitPod(ns, 'live', 'restarted twice', (x) => (cs(x, 'app')?.restartCount ?? 0) >= 2, 60_000);
    expect(cs(p, 'app')?.lastState?.terminated).toBeTruthy();
  });

  it('toggles Ready with the readiness probe, and exec reports exit codes', async () => {
    const ns = await newNamespace();
    await cp.client.create(
      'pods',
      podSpec('ready', ns, {
        containers: [bb('app', 'exec sleep 3600', { readinessProbe: { exec: { command: ['cat', '/tmp/ready'] }, periodSeconds: 1, failureThreshold: 1 } })],
      }),
    );
    await waitPod(ns, 'ready', 'Running', (x) => x.status?.phase === 'Running');
    expect(ready(await getPod(ns, 'ready'))).toBe(false);
    expect((await exec(ns, 'ready', 'app', ['touch', '/tmp/ready'])).code).toBe(0);
    await waitPod(ns, 'ready', 'Ready', ready);
    expect((await exec(ns, 'ready', 'app', ['rm', '/tmp/ready'])).code).toBe(0);
    await waitPod(ns, 'ready', 'not Ready', (x) => !ready(x));
    const r = await exec(ns, 'ready', 'app', ['sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r).toEqual({ stdout: 'out\n', stderr: 'err\n', code: 3 });
  });

  it('serves logs and exec through the apiserver (pods/log, pods/exec over gRPC)', async () => {
    const ns = await newNamespace();
    await cp.client.create('pods', podSpec('api', ns, { containers: [bb('app', 'for i in 1 2 3; do echo line$i; done; exec sleep 3600')] }));
    await waitPod(ns, 'api', 'Running', (x) => x.status?.phase === 'Running');
    const read = async (): Promise<string> => {
      let s = '';
      for await (const b of cp.client.logs(ns, 'api', { tailLines: 2 })) s += b.toString();
      return s;
    };
    await waitFor(async () => (await read()) === 'line2\nline3\n', { what: 'last two log lines through the apiserver' });
    const session = cp.client.exec(ns, 'api', ['sh', '-c', 'read x; echo got-$x; exit 4'], { stdin: true });
    let out = '';
    session.onStdout((b) => (out += b.toString()));
    session.write('hello\n');
    session.closeStdin();
    expect(await session.exit).toBe(4);
    expect(out).toBe('got-hello\n');
  });

  it('sets a pod Ready again after someone else marked it not ready (a node back from a partition)', async () => {
    const ns = await newNamespace();
    await cp.client.create('pods', podSpec('back', ns, { containers: [bb('app', 'exec sleep 3600')] }));
    const ready = await waitPod(ns, 'back', 'Ready', (x) => x.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);
    // What the node lifecycle controller writes for the pods of a node it cannot reach.
    const conditions = (ready.status?.conditions ?? []).map((c) => (c.type === 'Ready' ? { ...c, status: 'False' } : c));
    await cp.client.updateStatus('pods', { ...ready, status: { ...ready.status, conditions } });
    await waitPod(ns, 'back', 'Ready again', (x) => x.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false, 15_000);
  });

  it('reports OOMKilled when a container breaks its memory limit', async () => {
    const ns = await newNamespace();
    await cp.client.create(
      'pods',
      podSpec('oom', ns, {
        restartPolicy: 'Never',
        containers: [bb('hog', 'tail /dev/zero', { resources: { limits: { memory: '16Mi' } } })],
      }),
    );
    const p = await waitPod(ns, 'oom', 'Failed', (x) => x.status?.phase === 'Failed');
    expect(cs(p, 'hog')?.state?.terminated?.reason).toBe('OOMKilled');
    expect(cs(p, 'hog')?.state?.terminated?.exitCode).toBe(137);
  });

  it('mounts a configMap volume and sets env from a secret', async () => {
    const ns = await newNamespace();
    await cp.client.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: ns }, data: { greeting: 'hello-config' } });
    await cp.client.create('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sec', namespace: ns }, data: { password: Buffer.from('s3cret').toString('base64') } });
    await cp.client.create(
      'pods',
      podSpec('cfg', ns, {
        volumes: [{ name: 'cfg', configMap: { name: 'cfg' } }],
        containers: [
          bb('app', 'cat /etc/cfg/greeting; echo; echo PW=$PW NODE=$NODE; exec sleep 3600', {
            volumeMounts: [{ name: 'cfg', mountPath: '/etc/cfg' }],
            env: [
              { name: 'PW', valueFrom: { secretKeyRef: { name: 'sec', key: 'password' } } },
              { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
            ],
          }),
        ],
      }),
    );
    await waitPod(ns, 'cfg', 'Running', (x) => x.status?.phase === 'Running');
    await waitFor(async () => (await logs(ns, 'cfg', 'app')) === `hello-config\nPW=s3cret NODE=${NODE}\n`, { what: 'configmap and secret in the logs' });
  });

  it('sets Service environment variables of the namespace; explicit env wins; enableServiceLinks false leaves only kubernetes', async () => {
    const ns = await newNamespace();
    const web = await cp.client.create('services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: ns },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    });
    const ip = web.spec?.clusterIP ?? '';
    expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const kubernetes = await cp.client.get('services', 'kubernetes', { namespace: 'default' });
    const show = 'echo "host=$WEB_SERVICE_HOST port=$WEB_SERVICE_PORT named=$WEB_SERVICE_PORT_HTTP link=$WEB_PORT_80_TCP_ADDR k8s=$KUBERNETES_SERVICE_HOST"';
    const never = { restartPolicy: 'Never' as const };
    await cp.client.create(
      'pods',
      podSpec('links', ns, {
        ...never,
        containers: [bb('env', show), bb('override', show, { env: [{ name: 'WEB_SERVICE_PORT', value: '8080' }] })],
      }),
    );
    await cp.client.create('pods', podSpec('nolinks', ns, { ...never, enableServiceLinks: false, containers: [bb('env', show)] }));
    for (const name of ['links', 'nolinks']) await waitPod(ns, name, 'Succeeded', (x) => x.status?.phase === 'Succeeded');
    const k8s = kubernetes.spec?.clusterIP ?? '';
    expect(k8s).not.toBe('');
    expect(await logs(ns, 'links', 'env')).toBe(`host=${ip} port=80 named=80 link=${ip} k8s=${k8s}\n`);
    expect(await logs(ns, 'links', 'override')).toBe(`host=${ip} port=8080 named=80 link=${ip} k8s=${k8s}\n`);
    expect(await logs(ns, 'nolinks', 'env')).toBe(`host= port= named= link= k8s=${k8s}\n`);
  });

  it('fails a pod past activeDeadlineSeconds with DeadlineExceeded and stops its containers', async () => {
    const ns = await newNamespace();
    const pod = await cp.client.create(
      'pods',
      podSpec('deadline', ns, { activeDeadlineSeconds: 3, terminationGracePeriodSeconds: 1, containers: [bb('app', 'exec sleep 3600')] }),
    );
    const running = await waitPod(ns, 'deadline', 'Running', (x) => x.status?.phase === 'Running');
    const startedAt = Date.parse(running.status?.startTime ?? '');
    const failed = await waitPod(ns, 'deadline', 'Failed', (x) => x.status?.phase === 'Failed', 20_000);
    expect(failed.status?.reason).toBe('DeadlineExceeded');
    expect(failed.status?.message).toBe('Pod was active on the node longer than the specified deadline');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(3000);
    expect(cs(failed, 'app')?.state?.terminated).toBeDefined();
    expect(ready(failed)).toBe(false);
    const containers = await podContainers(pod.metadata?.uid ?? '');
    expect(containers.length).toBeGreaterThan(0);
    expect(containers.filter((c) => c.State === 'running')).toEqual([]);
    // Failed is final: restartPolicy Always restarts nothing afterwards.
    await kubelet.kubelet.relist();
    await kubelet.kubelet.idle();
    const later = await getPod(ns, 'deadline');
    expect(later.status?.phase).toBe('Failed');
    expect(cs(later, 'app')?.restartCount).toBe(0);
    expect((await podContainers(pod.metadata?.uid ?? '')).filter((c) => c.State === 'running')).toEqual([]);
  });

  it('runs preStop before SIGTERM, then deletes the pod and removes its containers', async () => {
    const ns = await newNamespace({ privileged: true });
    const hostPath = `/kubelet-test-prestop-${process.pid}`;
    const pod = await cp.client.create(
      'pods',
      podSpec('stop', ns, {
        volumes: [{ name: 'shared', hostPath: { path: hostPath } }],
        containers: [
          bb('app', 'trap "echo TERM >> /shared/log; exit 0" TERM; while true; do sleep 0.1; done', {
            volumeMounts: [{ name: 'shared', mountPath: '/shared' }],
            lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo PRESTOP >> /shared/log'] } } },
          }),
        ],
      }),
    );
    await waitPod(ns, 'stop', 'Running', (x) => x.status?.phase === 'Running');
    const uid = pod.metadata?.uid ?? '';
    expect((await podContainers(uid)).length).toBe(2);
    await cp.client.delete('pods', 'stop', { namespace: ns });
    await waitFor(async () => cp.client.get('pods', 'stop', { namespace: ns }).then(() => false, () => true), { what: 'pod to be gone from the API' });
    expect(await podContainers(uid)).toEqual([]);
    const reader = await startContainer({
      Image: BUSYBOX,
      Cmd: ['cat', '/v/log'],
      Labels: testLabels('kubelet'),
      HostConfig: { Mounts: [{ Type: 'volume', Source: hostPathVolumeName(CLUSTER, NODE, hostPath), Target: '/v' }] },
    });
    await waitForExit(reader);
    expect((await containerLogs(reader)).stdout).toBe('PRESTOP\nTERM\n');
  });

  it('reports ImagePullBackOff for an unknown image and keeps working', async () => {
    const ns = await newNamespace();
    await cp.client.create('pods', podSpec('noimg', ns, { containers: [{ name: 'app', image: 'kubelab/does-not-exist:1.0', imagePullPolicy: 'IfNotPresent' }] }));
    const p = await waitPod(ns, 'noimg', 'ImagePullBackOff', (x) => cs(x, 'app')?.state?.waiting?.reason === 'ImagePullBackOff', 60_000);
    expect(cs(p, 'app')?.state?.waiting?.message).toContain('does-not-exist');
    expect(p.status?.phase).toBe('Pending');
    await cp.client.create('pods', podSpec('after', ns, { containers: [bb('app', 'exec sleep 3600')] }));
    await waitPod(ns, 'after', 'Running', (x) => x.status?.phase === 'Running');
  });

  it('restarts no container when the kubelet restarts', async () => {
    const ns = await newNamespace();
    const pod = await cp.client.create('pods', podSpec('keep', ns, { containers: [bb('app', 'exec sleep 3600')] }));
    await waitPod(ns, 'keep', 'Running', (x) => x.status?.phase === 'Running' && ready(x));
    const before = (await podContainers(pod.metadata?.uid ?? '')).map((c) => c.Id).sort();
    await kubelet.stop();
    kubelet = await startKubelet(cfg, ctl.signal, { logger: nullLogger() });
    // The new kubelet has synced the pod once it has rewritten nothing and sees it Ready.
    await waitFor(() => kubelet.kubelet.lookup(ns, 'keep'), { what: 'new kubelet to know the pod' });
    await kubelet.kubelet.relist();
    await kubelet.kubelet.idle();
    const p = await waitPod(ns, 'keep', 'Ready again', ready);
    expect(cs(p, 'app')?.restartCount).toBe(0);
    const after = (await podContainers(pod.metadata?.uid ?? '')).filter((c) => c.State === 'running').map((c) => c.Id).sort();
    expect(after).toEqual(before);
  });
});

describe('ephemeral containers', () => {
  const ecs = (p: core.Pod, name: string): core.ContainerStatus | undefined => p.status?.ephemeralContainerStatuses?.find((c) => c.name === name);
  const addEphemeral = (ns: string, pod: string, ec: core.EphemeralContainer): Promise<core.Pod> =>
    cp.client.patch('pods', pod, { spec: { ephemeralContainers: [ec] } }, { namespace: ns, type: 'strategic', subresource: 'ephemeralcontainers' });

  /** Attaches to a container's stdio through the kubelet (v5.channel.k8s.io), writes `input`, reads stdout until `until` shows. */
  async function attach(ns: string, pod: string, container: string, input: string, until: string): Promise<string> {
    const ws = new WebSocket(`ws://127.0.0.1:${kubelet.port}/attach/${ns}/${pod}/${container}?stdin=true&stdout=true&stderr=true`, ['v5.channel.k8s.io']);
    let out = '';
    try {
      await new Promise<void>((resolve, reject) => {
        ws.on('open', () => ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(input)])));
        ws.on('message', (d: Buffer) => {
          if (d[0] === 1) out += d.subarray(1).toString();
          if (d[0] === 3) reject(new Error(`attach failed: ${d.subarray(1).toString()}`));
          if (out.includes(until)) resolve();
        });
        ws.on('close', () => reject(new Error(`attach closed before "${until}" (got ${JSON.stringify(out)})`)));
        ws.on('error', reject);
      });
    } finally {
      ws.close();
    }
    return out;
  }

  it('runs one patched into a running pod: in its network and target PID namespace, with logs and attach; started once; adopted by a restarted kubelet; removed with the pod', async () => {
    const ns = await newNamespace();
    const pod = await cp.client.create(
      'pods',
      podSpec('dbg', ns, { terminationGracePeriodSeconds: 1, containers: [bb('web', 'mkdir -p /www && echo hello-from-web > /www/index.html && exec httpd -f -p 8080 -h /www')] }),
    );
    await waitPod(ns, 'dbg', 'Running and Ready', (x) => x.status?.phase === 'Running' && ready(x));
    const uid = pod.metadata?.uid ?? '';

    await expect(addEphemeral(ns, 'dbg', { name: 'bad', image: BUSYBOX, ports: [{ containerPort: 80 }] } as core.EphemeralContainer)).rejects.toThrow(
      'spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container',
    );
    const patched = await addEphemeral(ns, 'dbg', {
      name: 'debugger',
      image: BUSYBOX,
      imagePullPolicy: 'Never',
      targetContainerName: 'web',
      command: ['sh', '-c', 'echo debug-ok; wget -qO- 127.0.0.1:8080; ps; exec sleep 3600'],
    });
    expect(patched.spec?.ephemeralContainers?.map((e) => e.name)).toEqual(['debugger']);
    const p = await waitPod(ns, 'dbg', 'debugger running', (x) => ecs(x, 'debugger')?.state?.running !== undefined);
    expect(ecs(p, 'debugger')).toMatchObject({ name: 'debugger', image: BUSYBOX, ready: false, restartCount: 0 });
    expect(ecs(p, 'debugger')?.containerID).toMatch(/^docker:\/\//);
    expect(ready(p)).toBe(true);
    // 127.0.0.1:8080 is the web container's server (shared network namespace); ps sees httpd (its PID namespace).
    const out = await waitFor(async () => {
      const l = await logs(ns, 'dbg', 'debugger');
      return l.includes('hello-from-web') && l.includes('httpd -f -p 8080') ? l : undefined;
    }, { what: 'debugger logs with the web page and the web process' });
    expect(out.startsWith('debug-ok\n')).toBe(true);

    // A second one with stdin, no target: attach by name reaches its shell.
    await addEphemeral(ns, 'dbg', { name: 'shell', image: BUSYBOX, imagePullPolicy: 'Never', stdin: true, command: ['sh'] });
    await waitPod(ns, 'dbg', 'shell running', (x) => ecs(x, 'shell')?.state?.running !== undefined);
    expect(await attach(ns, 'dbg', 'shell', 'echo attached-$((40+2))\n', 'attached-42')).toContain('attached-42');
    // Exiting ends it for good: terminated, never restarted.
    await attach(ns, 'dbg', 'shell', 'echo bye; exit 3\n', 'bye').catch(() => undefined);
    const ended = await waitPod(ns, 'dbg', 'shell terminated', (x) => ecs(x, 'shell')?.state?.terminated !== undefined);
    expect(ecs(ended, 'shell')?.state?.terminated?.exitCode).toBe(3);
    await kubelet.kubelet.relist();
    await kubelet.kubelet.idle();
    expect((await podContainers(uid)).filter((c) => c.Labels[LABELS.container] === 'shell')).toHaveLength(1);

    const before = (await podContainers(uid)).map((c) => `${c.Id}/${c.State}`).sort();
    await kubelet.stop();
    kubelet = await startKubelet(cfg, ctl.signal, { logger: nullLogger() });
    await waitFor(() => kubelet.kubelet.lookup(ns, 'dbg'), { what: 'new kubelet to know the pod' });
    await kubelet.kubelet.relist();
    await kubelet.kubelet.idle();
    expect((await podContainers(uid)).map((c) => `${c.Id}/${c.State}`).sort()).toEqual(before);
    expect(ecs(await getPod(ns, 'dbg'), 'debugger')?.state?.running).toBeDefined();

    await cp.client.delete('pods', 'dbg', { namespace: ns });
    await waitFor(async () => cp.client.get('pods', 'dbg', { namespace: ns }).then(() => false, () => true), { what: 'pod to be gone from the API' });
    expect(await podContainers(uid)).toEqual([]);
  });
});

describe('hollow nodes', () => {
  it('register, heartbeat and run scripted pods', async () => {
    const hctl = new AbortController();
    const hollow = await startHollowNodes({ apiserver: cp.address, count: 3, namePrefix: `hollow-${process.pid}-`, timing: 'lab', startDelayMs: 200 }, hctl.signal);
    try {
      expect(hollow.nodeNames).toHaveLength(3);
      const node = await cp.client.get('nodes', hollow.nodeNames[1]);
      expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      await waitFor(() => cp.client.get('leases', hollow.nodeNames[2], { namespace: 'kube-node-lease' }), { what: 'hollow lease' });
      const ns = await newNamespace();
      await cp.client.create(
        'pods',
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'job', namespace: ns, annotations: { 'kubelab.io/hollow-exit-after': '2s' } },
          spec: { nodeName: hollow.nodeNames[1], restartPolicy: 'Never', containers: [{ name: 'c', image: 'anything' }] },
        },
      );
      await waitPod(ns, 'job', 'Running', (x) => x.status?.phase === 'Running');
      const done = await waitPod(ns, 'job', 'Succeeded', (x) => x.status?.phase === 'Succeeded');
      expect(cs(done, 'c')?.state?.terminated?.reason).toBe('Completed');
      await cp.client.delete('pods', 'job', { namespace: ns });
      await waitFor(async () => cp.client.get('pods', 'job', { namespace: ns }).then(() => false, () => true), { what: 'hollow pod deleted' });
    } finally {
      await hollow.stop();
    }
  });
});
