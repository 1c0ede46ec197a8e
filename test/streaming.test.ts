/**
 * kubectl's streaming commands end to end: real kubectl 1.33 → REST facade (in-process apiserver on a
 * real etcd) → the kubelet's server (in-process kubelet) → real Docker containers.
 * logs (-c, --tail, -f, --previous), exec (exit code, -i, -it), attach, run --rm -i, port-forward.
 * Pods run on Docker's default bridge, labelled io.kubelab.cluster=<unique name>, removed in afterAll.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nullLogger } from '../component-base/log.js';
import type { core } from '../api/types.js';
import { compileKubeletConfig } from '../kubelet/config.js';
import { startKubelet, type RunningKubelet } from '../kubelet/start.js';
import { testKubeletOptions } from './support/kubelet.js';
import { startControlPlane, type TestControlPlane } from './support/apiserver.js';
import { CLUSTER_LABEL, removeByLabel, requireImages } from './support/docker.js';
import { writeKubeconfig, type TestKubeconfig } from './support/kubeconfig.js';
import { Kubectl, stopKubectl as stop, type KubectlRun, type RunOptions } from './support/kubectl.js';
import { waitFor } from './support/wait.js';

const KUBECTL = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33';
const CLUSTER = `streaming-test-${process.pid}`;
const NODE = 'st-node';
const NS = 'streaming';
const BUSYBOX = 'kubelab/busybox:latest';

let cp: TestControlPlane;
let kc: TestKubeconfig;
let kubelet: RunningKubelet;
const ctl = new AbortController();
let k: Kubectl;

const kubectl = (args: string[], opts: RunOptions = {}): Promise<KubectlRun> => k.run(args, opts);
/** A long-running kubectl (logs -f, port-forward) whose output is collected as it arrives. */
const spawnKubectl = (args: string[], bin = KUBECTL) => k.background(args, bin);

const bb = (name: string, script: string, extra: Partial<core.Container> = {}): core.Container => ({
  name,
  image: BUSYBOX,
  imagePullPolicy: 'Never',
  command: ['sh', '-c', script],
  ...extra,
});

function pod(name: string, spec: Partial<core.PodSpec> & { containers: core.Container[] }): core.Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS }, spec: { nodeName: NODE, terminationGracePeriodSeconds: 1, ...spec } };
}

async function waitPod(name: string, what: string, pred: (p: core.Pod) => boolean, timeoutMs = 30_000): Promise<core.Pod> {
  return waitFor(
    async () => {
      const p = await cp.client.get('pods', name, { namespace: NS });
      return pred(p) ? p : undefined;
    },
    { timeoutMs, what: `pod ${name} ${what}` },
  );
}

const running = (p: core.Pod): boolean =>
  p.status?.phase === 'Running' && (p.status.containerStatuses ?? []).every((c) => c.state?.running !== undefined);

beforeAll(async () => {
  await requireImages(BUSYBOX, 'kubelab/pause:latest');
  cp = await startControlPlane();
  kc = writeKubeconfig(cp.apiserver.httpPort);
  k = new Kubectl({ bin: KUBECTL, kubeconfig: kc.path, home: kc.dir, namespace: NS, timeoutMs: 30_000 });
  const cfg = compileKubeletConfig(testKubeletOptions(cp.address, CLUSTER, NODE, { crashLoopBackoffInitialMs: 500, crashLoopBackoffMaxMs: 2000 }));
  kubelet = await startKubelet(cfg, ctl.signal, { logger: nullLogger() });
  await cp.client.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  // Every pod the suite needs starts at once; each test waits only for its own.
  await Promise.all([
    cp.client.create(
      'pods',
      pod('logger', {
        containers: [bb('main', 'i=0; while true; do i=$((i+1)); echo line-$i; sleep 0.2; done'), bb('side', 'echo side-ready; exec sleep 3600')],
      }),
    ),
    cp.client.create(
      'pods',
      pod('crash', {
        // Each run counts itself in an emptyDir that survives container restarts.
        containers: [bb('main', 'n=$(( $(cat /d/n 2>/dev/null || echo 0) + 1 )); echo $n > /d/n; echo attempt-$n; exit 1', { volumeMounts: [{ name: 'd', mountPath: '/d' }] })],
        volumes: [{ name: 'd', emptyDir: {} }],
      }),
    ),
    cp.client.create('pods', pod('shell', { containers: [bb('main', 'exec sleep 3600')] })),
    cp.client.create('pods', pod('web', { containers: [bb('web', 'mkdir -p /www && echo hello-through-port-forward > /www/index.html && exec httpd -f -p 8080 -h /www')] })),
    cp.client.create(
      'pods',
      pod('att', { restartPolicy: 'Never', containers: [bb('main', 'read l; echo got:$l', { stdin: true })] }),
    ),
  ]);
});

afterAll(async () => {
  k?.killAll();
  ctl.abort();
  await kubelet?.stop();
  await removeByLabel(CLUSTER_LABEL, CLUSTER);
  await cp?.stop();
  kc?.cleanup();
});

describe.skipIf(!existsSync(KUBECTL))('kubectl streaming (1.33)', () => {
  it('logs: -c picks the container and --tail limits the lines', async () => {
    await waitPod('logger', 'running', running);
    const side = await kubectl(['logs', 'logger', '-c', 'side']);
    expect(side.code, side.stderr).toBe(0);
    expect(side.stdout).toBe('side-ready\n');
    await waitFor(async () => ((await kubectl(['logs', 'logger', '-c', 'main'])).stdout.split('\n').length > 4 ? true : undefined), { what: 'several log lines' });
    const tail = await kubectl(['logs', 'logger', '-c', 'main', '--tail=2']);
    expect(tail.code, tail.stderr).toBe(0);
    expect(tail.stdout).toMatch(/^line-\d+\nline-\d+\n$/);
  });

  it('logs -f: lines written while kubectl runs keep arriving until it is stopped', async () => {
    await waitPod('logger', 'running', running);
    const f = spawnKubectl(['logs', '-f', 'logger', '-c', 'main', '--tail=1']);
    try {
      const first = await waitFor(() => /line-(\d+)/.exec(f.out())?.[1], { what: 'first followed line' });
      // Lines numbered after the first one can only come from the open stream.
      await waitFor(() => (f.out().includes(`line-${Number(first) + 5}\n`) ? true : undefined), { timeoutMs: 10_000, what: 'followed lines' });
      expect(f.child.exitCode).toBeNull();
    } finally {
      await stop(f.child);
    }
  });

  it('logs --previous shows the run before the last restart', async () => {
    await waitPod('crash', 'restarted', (p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2);
    const prev = await kubectl(['logs', 'crash', '--previous']);
    expect(prev.code, prev.stderr).toBe(0);
    const p = Number(/attempt-(\d+)/.exec(prev.stdout)?.[1]);
    expect(p).toBeGreaterThanOrEqual(1);
    // The pod keeps crashing: by now the current container may be one just started that has not logged yet.
    let c = NaN;
    await waitFor(
      async () => {
        const cur = await kubectl(['logs', 'crash']);
        expect(cur.code, cur.stderr).toBe(0);
        c = Number(/attempt-(\d+)/.exec(cur.stdout)?.[1]);
        return !Number.isNaN(c);
      },
      { timeoutMs: 30_000, intervalMs: 250, what: "the current container of pod crash to log its attempt" },
    );
    expect(c).toBeGreaterThan(p);
  });

  it('exec: output, stderr and the exit code come back', async () => {
    await waitPod('shell', 'running', running);
    const r = await kubectl(['exec', 'shell', '--', 'sh', '-c', 'echo hi; echo oops >&2; exit 3']);
    expect(r.stdout).toBe('hi\n');
    expect(r.stderr).toContain('oops');
    expect(r.code).toBe(3);
  });

  it('exec -i: piped stdin reaches the process and its end ends the process', async () => {
    await waitPod('shell', 'running', running);
    const r = await kubectl(['exec', '-i', 'shell', '--', 'sh', '-c', 'cat; echo done'], { input: 'one\ntwo\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('one\ntwo\ndone\n');
  });

  it('exec -it: an interactive shell on a terminal of the client size, with its exit code', async () => {
    await waitPod('shell', 'running', running);
    // `script` gives kubectl the terminal that -t requires; what it reads from the pipe is typed into it.
    const cmd = [KUBECTL, ...k.args(['exec', '-it', 'shell', '--', 'sh'])].map((a) => `'${a}'`).join(' ');
    const r = await new Promise<KubectlRun>((resolve) => {
      const child = execFile('script', ['-qec', `stty cols 91 rows 27; ${cmd}`, '/dev/null'], { timeout: 30_000, env: k.env }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout: stdout.replace(/\r/g, ''), stderr });
      });
      child.stdin?.end('echo abc$((1+2))\nstty size\nexit 5\n');
    });
    expect(r.stdout).toMatch(/^abc3$/m);
    expect(r.stdout).toMatch(/^27 91$/m);
    expect(r.code).toBe(5);
  });

  it('attach -i: stdin goes to the container process and its output comes back', async () => {
    await waitPod('att', 'running', running);
    const r = await kubectl(['attach', '-i', 'att'], { input: 'hello\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('got:hello');
    await waitPod('att', 'succeeded', (p) => p.status?.phase === 'Succeeded');
  });

  it('run --rm -i: prints the output of a one-off pod and deletes it', async () => {
    const r = await kubectl(
      ['run', '--rm', '-i', '--restart=Never', `--image=${BUSYBOX}`, '--image-pull-policy=Never', `--overrides={"spec":{"nodeName":"${NODE}"}}`, 't', '--', 'echo', 'hello'],
      { timeoutMs: 60_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('hello');
    expect(r.stdout).toContain('pod "t" deleted');
  });

  it('port-forward: a local port reaches the pod port', async () => {
    await waitPod('web', 'running', running);
    const pf = spawnKubectl(['port-forward', 'pod/web', ':8080']);
    try {
      const port = await waitFor(() => /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(pf.out())?.[1], { what: 'port-forward ready' });
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`http://127.0.0.1:${port}/`);
        expect(res.status).toBe(200);
        expect(await res.text()).toBe('hello-through-port-forward\n');
      }
      expect(pf.out()).toContain(`Handling connection for ${port}`);
      expect(pf.child.exitCode).toBeNull();
    } finally {
      await stop(pf.child);
    }
  });

  it('port-forward to a closed pod port reports the refusal and ends, as against Kubernetes', async () => {
    await waitPod('web', 'running', running);
    const pf = spawnKubectl(['port-forward', 'pod/web', ':9999']);
    try {
      const port = await waitFor(() => /Forwarding from 127\.0\.0\.1:(\d+) -> 9999/.exec(pf.out())?.[1], { what: 'port-forward ready' });
      await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
      await waitFor(() => (pf.child.exitCode !== null ? true : undefined), { timeoutMs: 10_000, what: 'kubectl port-forward exits' });
      expect(pf.out()).toMatch(/error forwarding port 9999 to pod web, uid [0-9a-f-]+: connect ECONNREFUSED/);
      expect(pf.out()).toContain('lost connection to pod');
      expect(pf.child.exitCode).not.toBe(0);
    } finally {
      await stop(pf.child);
    }
  });
});

// kubectl 1.27-1.29 speak SPDY/3.1 on a raw upgraded connection for exec and attach, and so does 1.30
// for port-forward; the kubelet serves both (the apiserver relays the upgrade).
const SPDY_KUBECTL = '/usr/lib/google-cloud-sdk/bin/kubectl.1.27';

describe.skipIf(!existsSync(SPDY_KUBECTL))('kubectl 1.27 over SPDY/3.1', () => {
  it('exec: output, stderr and the exit code come back', async () => {
    await waitPod('shell', 'running', running);
    const r = await kubectl(['exec', 'shell', '--', 'sh', '-c', 'echo hi; echo oops >&2; exit 3'], { bin: SPDY_KUBECTL });
    expect(r.stdout).toBe('hi\n');
    expect(r.stderr).toContain('oops');
    expect(r.code).toBe(3);
  });

  it('exec -i: piped stdin reaches the process and its end (the stream half-closed) ends the process', async () => {
    await waitPod('shell', 'running', running);
    const r = await kubectl(['exec', '-i', 'shell', '--', 'sh', '-c', 'cat; echo done'], { input: 'one\ntwo\n', bin: SPDY_KUBECTL });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('one\ntwo\ndone\n');
  });

  it('port-forward: a local port reaches the pod port', async () => {
    await waitPod('web', 'running', running);
    const pf = spawnKubectl(['port-forward', 'pod/web', ':8080'], SPDY_KUBECTL);
    try {
      const port = await waitFor(() => /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(pf.out())?.[1], { what: 'port-forward ready' });
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`http://127.0.0.1:${port}/`);
        expect(await res.text()).toBe('hello-through-port-forward\n');
      }
      expect(pf.child.exitCode).toBeNull();
    } finally {
      await stop(pf.child);
    }
  });
});
