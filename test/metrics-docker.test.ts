/**
 * Resource metrics from real containers: a kubelet on Docker reads a CPU-burning busybox pod's cgroup
 * files, the controller-manager's scraper collects them, and kubectl 1.33 `top` shows the burn through the
 * apiserver's aggregated metrics.k8s.io within two scrape periods of the pod running.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileControllerManagerConfig, startControllerManager } from '../controller-manager/index.js';
import { nullLogger } from '../component-base/log.js';
import { busybox, running, startNodeLab, type NodeLab } from './support/nodelab.js';
import { waitFor } from './support/wait.js';

const KUBECTL = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33';
const SCRAPE_MS = 2_000;

let lab: NodeLab;
const ctl = new AbortController();
let cmDone: Promise<void> | undefined;

function kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(KUBECTL, [`--kubeconfig=${lab.kc.path}`, `--cache-dir=${join(lab.kc.dir, 'cache')}`, ...args], { timeout: 30_000, env: { ...process.env, HOME: lab.kc.dir } }, (err, stdout, stderr) =>
      resolve({ code: err ? 1 : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  lab = await startNodeLab({ cluster: 'metrics-docker', node: 'metrics-docker-node', namespace: 'burn' });
  const cfg = compileControllerManagerConfig({
    apiserver: lab.cp.address,
    adminPort: 0,
    bindAddress: '127.0.0.1',
    timing: 'lab',
    leaderElect: false,
    controllers: 'metrics-scraper',
    metricResolutionMs: SCRAPE_MS,
    metricsAdvertiseAddress: '127.0.0.1',
  });
  cmDone = startControllerManager(cfg, ctl.signal, { logger: nullLogger() });
}, 120_000);

afterAll(async () => {
  ctl.abort();
  await cmDone;
  await lab?.stop();
});

describe.skipIf(!existsSync(KUBECTL))('kubectl top on real containers', () => {
  it('shows a CPU-burning pod within two scrape periods', async () => {
    await lab.cp.client.create('pods', lab.pod('burner', { containers: [busybox('burn', 'while :; do :; done')] }));
    await lab.waitPod('burner', 'running', running);
    const since = Date.now();
    let cpu = 0;
    await waitFor(
      async () => {
        const r = await kubectl(['top', 'pod', 'burner', '--no-headers']);
        const m = /burner\s+(\d+)m\s+(\d+)Mi/.exec(r.stdout);
        cpu = m ? Number(m[1]) : 0;
        return cpu > 0;
      },
      { what: 'kubectl top to show the burner', timeoutMs: 20_000 },
    );
    const tookMs = Date.now() - since;
    // One busy loop is one core at most; on a shared 2-core machine it gets a good part of one.
    expect(cpu).toBeGreaterThan(200);
    expect(cpu).toBeLessThan(1100);
    // Two scrapes for a rate, plus one kubectl round trip.
    expect(tookMs).toBeLessThan(2 * SCRAPE_MS + 2_000);
    const nodes = await kubectl(['top', 'node', '--no-headers']);
    expect(nodes.stdout).toMatch(/metrics-docker-node\s+\d+m/);
  }, 60_000);
});
