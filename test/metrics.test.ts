/**
 * Resource metrics end to end, in process: hollow nodes report annotation-driven usage on their kubelet
 * port, the controller-manager's scraper collects it and serves metrics.k8s.io, the apiserver aggregates
 * the group, and real kubectl 1.33 reads it (`top`, `get --raw`) through discovery like any cluster.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, Metrics, topPods } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileControllerManagerConfig, startControllerManager } from '../controller-manager/index.js';
import { startHollowNodes, type HollowNodes } from '../kubelet/hollow.js';
import { compileSchedulerConfig, startScheduler } from '../scheduler/index.js';
import { nullLogger } from '../component-base/log.js';
import type { core } from '../api/types.js';
import { startControlPlane, type TestControlPlane } from './support/apiserver.js';
import { writeKubeconfig, type TestKubeconfig } from './support/kubeconfig.js';
import { waitFor } from './support/wait.js';

const KUBECTL = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33';
const NS = 'metrics-test';
const SCRAPE_MS = 1_000;

let cp: TestControlPlane;
let kc: TestKubeconfig;
let hollow: HollowNodes;
const ctl = new AbortController();
let cmDone: Promise<void> | undefined;
let schedDone: Promise<unknown> | undefined;

function kubectl(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(KUBECTL, [`--kubeconfig=${kc.path}`, `--cache-dir=${join(kc.dir, 'cache')}`, ...args], { timeout: 30_000, env: { ...process.env, HOME: kc.dir } }, (err, stdout, stderr) =>
      resolve({ code: err ? 1 : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

beforeAll(async () => {
  cp = await startControlPlane({});
  kc = writeKubeconfig(cp.apiserver.httpPort);
  const cfg = compileControllerManagerConfig({
    apiserver: cp.address,
    adminPort: 0,
    bindAddress: '127.0.0.1',
    timing: 'lab',
    leaderElect: false,
    controllers: 'replicaset,deployment,metrics-scraper,horizontalpodautoscaling',
    metricResolutionMs: SCRAPE_MS,
    hpaSyncPeriodMs: 1_000,
    hpaDownscaleStabilizationMs: 3_000,
    metricsAdvertiseAddress: '127.0.0.1',
  });
  cmDone = startControllerManager(cfg, ctl.signal, { logger: nullLogger() });
  schedDone = (await startScheduler(compileSchedulerConfig({ apiserver: cp.address, adminPort: 0, bindAddress: '127.0.0.1', leaderElect: false }), ctl.signal, { logger: nullLogger() })).done;
  hollow = await startHollowNodes({ apiserver: cp.address, count: 2, namePrefix: 'metrics-', cpu: '4', memory: '8Gi', timing: 'lab', startDelayMs: 50 }, ctl.signal);
  await cp.client.create('namespaces', { metadata: { name: NS } });
}, 60_000);

afterAll(async () => {
  ctl.abort();
  await hollow?.stop();
  await Promise.all([cmDone, schedDone]);
  await cp?.stop();
  kc?.cleanup();
});

const pod = (name: string, annotations: Record<string, string>, containers = ['main']): core.Pod => ({
  metadata: { name, namespace: NS, labels: { app: 'burn' }, annotations },
  spec: { containers: containers.map((c) => ({ name: c, image: 'kubelab/busybox:latest', resources: { requests: { cpu: '100m' } } })) },
});

describe.skipIf(!existsSync(KUBECTL))('metrics.k8s.io through the apiserver', () => {
  it('kubectl top shows the annotated usage of pods, containers and nodes', async () => {
    await cp.client.create('pods', pod('burner', { 'kubelab.io/hollow-cpu': 'main=250m;side=50m', 'kubelab.io/hollow-memory': '64Mi' }, ['main', 'side']));
    await cp.client.create('pods', pod('idle', { 'kubelab.io/hollow-memory': '16Mi' }));
    // Two scrapes are needed for a rate: the pod shows within two periods (plus the hollow start delay).
    let out = '';
    await waitFor(
      async () => {
        const r = await kubectl(['top', 'pods', '-n', NS, '--containers']);
        out = r.stdout;
        return r.code === 0 && /burner\s+main/.test(out) && /burner\s+side/.test(out) && /idle\s+main/.test(out);
      },
      { what: 'kubectl top pods --containers to list both pods', timeoutMs: 20_000 },
    );
    const row = (p: string, c: string): string[] => out.split('\n').find((l) => new RegExp(`^${p}\\s+${c}\\s`).test(l))?.split(/\s+/) ?? [];
    expect(row('burner', 'main')[2]).toBe('250m');
    expect(row('burner', 'side')[2]).toBe('50m');
    expect(row('burner', 'main')[3]).toBe('64Mi');
    expect(row('idle', 'main')[2]).toBe('0m');
    expect(row('idle', 'main')[3]).toBe('16Mi');

    const selected = await kubectl(['top', 'pods', '-n', NS, '-l', 'app=burn', '--no-headers']);
    expect(selected.stdout).toMatch(/burner\s+300m\s+128Mi/);

    const nodes = await kubectl(['top', 'nodes']);
    expect(nodes.code).toBe(0);
    expect(nodes.stdout).toMatch(/metrics-[01]\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%/);

    const raw = await kubectl(['get', '--raw', `/apis/metrics.k8s.io/v1beta1/namespaces/${NS}/pods/burner`]);
    const pm = JSON.parse(raw.stdout) as { kind: string; containers: { name: string; usage: { cpu: string } }[] };
    expect(pm.kind).toBe('PodMetrics');
    expect(pm.containers.map((c) => c.name).sort()).toEqual(['main', 'side']);
    const missing = await kubectl(['get', '--raw', `/apis/metrics.k8s.io/v1beta1/namespaces/${NS}/pods/nope`]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/NotFound|not found/);
  }, 60_000);

  it('@kubernetes/client-node reads the same numbers through its Metrics API and topPods', async () => {
    const kcn = new KubeConfig();
    kcn.loadFromFile(kc.path);
    const metrics = new Metrics(kcn);
    const nodes = await metrics.getNodeMetrics();
    expect(nodes.items.map((n) => n.metadata.name).sort()).toEqual(hollow.nodeNames.slice().sort());
    const pods = await metrics.getPodMetrics(NS);
    const burner = pods.items.find((p) => p.metadata.name === 'burner');
    expect(burner?.containers.map((c) => c.name).sort()).toEqual(['main', 'side']);
    const top = await topPods(kcn.makeApiClient(CoreV1Api), metrics, NS);
    const main = top.find((t) => t.Pod.metadata?.name === 'burner');
    // 250m + 50m of the annotation, read back as cores.
    expect(Number(main?.CPU.CurrentUsage)).toBeGreaterThan(0.2);
  }, 30_000);

  it('a changed annotation changes the reported usage', async () => {
    await cp.client.patch('pods', 'idle', { metadata: { annotations: { 'kubelab.io/hollow-cpu': '1' } } }, { namespace: NS });
    await waitFor(
      async () => {
        const r = await kubectl(['top', 'pods', 'idle', '-n', NS, '--no-headers']);
        const m = /idle\s+(\d+)m/.exec(r.stdout);
        return m !== null && Number(m[1]) >= 900;
      },
      { what: 'idle to use about one core', timeoutMs: 20_000 },
    );
  }, 30_000);
});

describe.skipIf(!existsSync(KUBECTL))('HorizontalPodAutoscaler', () => {
  it('kubectl autoscale scales a Deployment 1 → ≥3 under load and back to 1 once the load stops', async () => {
    const labels = { app: 'web' };
    await cp.client.create('deployments', {
      metadata: { name: 'web', namespace: NS },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels, annotations: { 'kubelab.io/hollow-cpu': '200m', 'kubelab.io/hollow-memory': '32Mi' } },
          spec: { containers: [{ name: 'web', image: 'kubelab/busybox:latest', resources: { requests: { cpu: '100m' } } }] },
        },
      },
    });
    const made = await kubectl(['autoscale', 'deployment', 'web', '-n', NS, '--cpu-percent=50', '--min=1', '--max=5']);
    expect(made.stderr).toBe('');
    expect(made.stdout).toMatch(/horizontalpodautoscaler.autoscaling\/web autoscaled/);
    const replicas = async (): Promise<number> => (await cp.client.get('deployments', 'web', { namespace: NS })).spec?.replicas ?? 0;
    await waitFor(async () => (await replicas()) >= 3, { what: 'the HPA to scale web to at least 3', timeoutMs: 30_000 });
    const table = await kubectl(['get', 'hpa', '-n', NS]);
    expect(table.stdout).toMatch(/NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE/);
    expect(table.stdout).toMatch(/web\s+Deployment\/web\s+cpu: (\d+%|<unknown>)\/50%\s+1\s+5\s+\d/);

    // The load stops: every pod now uses 10m of its 100m request.
    const quiet = async (): Promise<void> => {
      for (const p of await cp.client.list('pods', { namespace: NS, labelSelector: 'app=web' }).then((l) => l.items))
        if (p.metadata?.annotations?.['kubelab.io/hollow-cpu'] !== '10m')
          await cp.client.patch('pods', p.metadata?.name ?? '', { metadata: { annotations: { 'kubelab.io/hollow-cpu': '10m' } } }, { namespace: NS }).catch(() => undefined);
    };
    await waitFor(
      async () => {
        await quiet();
        return (await replicas()) === 1;
      },
      { what: 'the HPA to scale web back to 1', timeoutMs: 40_000 },
    );
    const described = await kubectl(['describe', 'hpa', 'web', '-n', NS]);
    expect(described.stdout).toMatch(/Reference:\s+Deployment\/web/);
    expect(described.stdout).toMatch(/resource cpu on pods\s+\(as a percentage of request\):/);
    expect(described.stdout).toMatch(/AbleToScale\s+True/);
    expect(described.stdout).toMatch(/ScalingActive\s+True\s+ValidMetricFound/);
    expect(described.stdout).toMatch(/SuccessfulRescale.*New size: 1; reason: All metrics below target/);
  }, 90_000);
});
