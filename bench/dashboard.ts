/**
 * Dashboard benchmark: an apiserver on its own etcd with N hollow nodes (Node objects only, as
 * bench/scheduler.ts) and the dashboard, each in its own process as in the lab, chromium showing it; then M
 * pods created at once from this process, bound to the nodes (10 per node for the defaults). Measures, in
 * the browser:
 * - API change → DOM: for the pods of the nodes on screen, from the create call's return to the first
 *   time the pod's tile is in the DOM (a MutationObserver in the page; one machine, one clock);
 * - a node change during the burst (cordon/uncordon of the first node every 250 ms) → its box's class;
 * - frames per second painted during the burst (requestAnimationFrame count);
 * - when the header counts all M pods.
 * Run: npm run build && node dist/bench/dashboard.js [--nodes 1000] [--pods 10000] [--concurrency 64]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { ApiClient } from '../client/api.js';
import type { core } from '../api/types.js';
import { freePort, startEtcd } from '../test/support/etcd.js';
import { waitFor } from '../test/support/wait.js';
import { flag, imageNodeOptions, percentile, printTable } from './stats.js';

const CHROMIUM = process.env.KUBELAB_CHROMIUM ?? '/usr/bin/chromium';

function nodeName(i: number): string {
  return `node-${String(i).padStart(5, '0')}`;
}

function node(i: number): core.Node {
  const resources = { cpu: '32', memory: '128Gi', pods: '110' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: nodeName(i) },
    spec: {},
    status: { capacity: resources, allocatable: resources, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] },
  };
}

function pod(i: number, nodes: number): core.Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `pod-${i}`,
      namespace: 'bench',
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `rs-${i % 100}`, uid: `00000000-0000-4000-8000-${String(i % 100).padStart(12, '0')}`, controller: true }],
    },
    spec: { nodeName: nodeName(i % nodes), containers: [{ name: 'c', image: 'kubelab/pause:latest', resources: { requests: { cpu: '100m', memory: '128Mi' } } }] },
  };
}

async function pool(n: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) await op(i);
    }),
  );
}

async function main(): Promise<void> {
  const nodes = flag('nodes', 1000);
  const pods = flag('pods', 10_000);
  const concurrency = flag('concurrency', 64);
  // The apiserver and the dashboard in their own processes (as in the lab), with the image's Node options;
  // this process only creates the load and drives the browser.
  const etcd = await startEtcd();
  const component = join(dirname(fileURLToPath(import.meta.url)), '..', 'cmd', 'component.js');
  const env = { ...process.env, KUBELAB_LOG_LEVEL: 'warn', NODE_OPTIONS: imageNodeOptions() };
  const children: ChildProcess[] = [];
  const start = (args: string[]): void => {
    const c = spawn(process.execPath, [component, ...args], { stdio: ['ignore', 'ignore', 'inherit'], env });
    children.push(c);
  };
  const grpcPort = await freePort();
  const dashPort = await freePort();
  start(['apiserver', '--etcd-servers', etcd.endpoint, '--grpc-port', String(grpcPort), '--http-port', String(await freePort()), '--admin-port', '0', '--bind-address', '127.0.0.1', '--insecure', '--authorization-mode', 'AlwaysAllow']);
  const client = new ApiClient(`127.0.0.1:${grpcPort}`);
  await waitFor(() => client.list('namespaces', { limit: 1 }).then(() => true, () => false), { what: 'the apiserver', timeoutMs: 60_000 });
  const cp = { client };
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    await cp.client.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
    await pool(nodes, concurrency, (i) => cp.client.create('nodes', node(i)));
    start(['dashboard', '--apiserver', `127.0.0.1:${grpcPort}`, '--port', String(dashPort), '--bind-address', '127.0.0.1']);
    await waitFor(() => fetch(`http://127.0.0.1:${dashPort}/`).then((r) => r.ok, () => false), { what: 'the dashboard', timeoutMs: 60_000 });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`http://127.0.0.1:${dashPort}/`);
    await page.waitForFunction(`document.getElementById('summary').textContent.startsWith('${nodes}/${nodes} nodes')`, undefined, { timeout: 120_000 });
    // Which nodes are on screen, and a recorder of when each pod tile / the first node's class first appears.
    const visible = new Set(await page.$$eval('.node', (els) => els.map((e) => e.getAttribute('data-node') ?? '')));
    // Browser-side code as a string: this file is compiled without DOM types.
    await page.evaluate(`(() => {
      window.seen = new Map();
      window.cordon = [];
      const first = document.querySelector('.node[data-node="node-00000"]');
      new MutationObserver((muts) => {
        const t = Date.now();
        for (const m of muts) {
          if (m.type === 'attributes' && m.target === first) window.cordon.push({ on: m.target.classList.contains('cordoned'), t });
          for (const n of m.addedNodes) {
            if (!(n instanceof Element)) continue;
            for (const el of n.matches('.pod') ? [n] : n.querySelectorAll('.pod')) {
              const id = el.getAttribute('data-pod') || '';
              if (!window.seen.has(id)) window.seen.set(id, t);
            }
          }
        }
      }).observe(document.getElementById('nodes-sizer'), { subtree: true, childList: true, attributes: true, attributeFilter: ['class'] });
    })()`);
    const frames0 = (await page.evaluate('window.kubelabDashboard.stats.frames')) as number;
    // Baseline: when the same pod events reach a plain watch in this process (the apiserver's own lag).
    const watched = new Map<string, number>();
    const watchCtl = new AbortController();
    const rv = (await cp.client.list('pods', { namespace: 'bench', limit: 1 })).metadata?.resourceVersion;
    const watching = (async () => {
      try {
        for await (const ev of cp.client.watch('pods', { namespace: 'bench', resourceVersion: rv, signal: watchCtl.signal })) {
          const name = `bench/${ev.object.metadata?.name}`;
          if (ev.type === 'ADDED' && !watched.has(name)) watched.set(name, Date.now());
        }
      } catch {
        /* aborted at the end */
      }
    })();
    const t0 = Date.now();
    const created = new Map<string, number>();
    const toggles: { on: boolean; sent: number; t: number }[] = [];
    let bursting = true;
    const toggler = (async () => {
      let on = false;
      while (bursting) {
        on = !on;
        const sent = Date.now();
        await cp.client.patch('nodes', 'node-00000', { spec: { unschedulable: on ? true : null } }, { type: 'merge' });
        // From the change's commit (the call's return), as the pod creates are measured. This process is busy
        // with the creates, so the browser may show the change before the call's return is seen here.
        toggles.push({ on, sent, t: Date.now() });
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    await pool(pods, concurrency, async (i) => {
      const p = pod(i, nodes);
      await cp.client.create('pods', p, { namespace: 'bench' });
      if (visible.has(p.spec?.nodeName ?? '')) created.set(`bench/${p.metadata?.name}`, Date.now());
    });
    const createdAllMs = Date.now() - t0;
    await page.waitForFunction(`document.getElementById('summary').textContent.includes(' ${pods} pods')`, undefined, { timeout: 300_000 });
    const shownAllMs = Date.now() - t0;
    bursting = false;
    await toggler;
    const frames1 = (await page.evaluate('window.kubelabDashboard.stats.frames')) as number;
    const fps = ((frames1 - frames0) * 1000) / shownAllMs;
    await page.waitForTimeout(500);
    const seen = new Map((await page.evaluate('[...window.seen.entries()]')) as [string, number][]);
    const cordon = (await page.evaluate('window.cordon')) as { on: boolean; t: number }[];
    const podLat: number[] = [];
    for (const [id, t] of created) {
      const s = seen.get(id);
      if (s !== undefined) podLat.push(Math.max(0, s - t));
    }
    watchCtl.abort();
    await watching;
    const watchLat: number[] = [];
    for (const [id, t] of created) {
      const w = watched.get(id);
      if (w !== undefined) watchLat.push(Math.max(0, w - t));
    }
    // Each toggle is matched with the first change of the box to its state after the call was *sent*: the
    // box can change before this busy process sees the call return (counted as 0, as a pod tile seen before its
    // create returned is). Matching from the return instead paired such a toggle with the next one's change,
    // 500 ms later (the 0.8–1 s "p99" of earlier runs).
    const nodeLat: number[] = [];
    let beforeReturn = 0;
    for (const tg of toggles) {
      const hit = cordon.find((c) => c.on === tg.on && c.t >= tg.sent);
      if (!hit) continue;
      if (hit.t < tg.t) beforeReturn++;
      nodeLat.push(Math.max(0, hit.t - tg.t));
    }
    const callLat = toggles.map((tg) => tg.t - tg.sent);
    // An upper bound that needs no matching by time of return: from the call's sending, so it includes the call.
    const fromSent = toggles.map((tg) => cordon.find((c) => c.on === tg.on && c.t >= tg.sent)).flatMap((hit, i) => (hit ? [hit.t - (toggles[i]?.sent ?? 0)] : []));
    const oldLat: number[] = [];
    for (const tg of toggles) {
      const hit = cordon.find((c) => c.on === tg.on && c.t >= tg.t);
      if (hit) oldLat.push(hit.t - tg.t);
    }
    printTable(
      `Dashboard: ${nodes} hollow nodes, ${pods} pods created at once (concurrency ${concurrency}); apiserver, dashboard and load in their own processes; chromium ${browser.version()}`,
      ['measure', 'value'],
      [
        ['pods created (API) in', `${(createdAllMs / 1000).toFixed(1)} s`],
        ['all pods counted in the browser after', `${(shownAllMs / 1000).toFixed(1)} s`],
        [`pod create → tile in DOM, p50 / p99 (${podLat.length} pods of the ${visible.size} nodes on screen)`, `${percentile(podLat, 50).toFixed(0)} / ${percentile(podLat, 99).toFixed(0)} ms`],
        [`baseline: pod create → event on a plain watch, p50 / p99 (${watchLat.length})`, `${percentile(watchLat, 50).toFixed(0)} / ${percentile(watchLat, 99).toFixed(0)} ms`],
        [`node cordon toggle → box class, p50 / p99 (${nodeLat.length} of ${toggles.length}; ${beforeReturn} shown before the call returned here)`, `${percentile(nodeLat, 50).toFixed(0)} / ${percentile(nodeLat, 99).toFixed(0)} ms`],
        ['  the same, matched from the return (sessions 7–10), p50 / p99', `${percentile(oldLat, 50).toFixed(0)} / ${percentile(oldLat, 99).toFixed(0)} ms`],
        ['  upper bound: toggle sent → box class (includes the call), p50 / p99', `${percentile(fromSent, 50).toFixed(0)} / ${percentile(fromSent, 99).toFixed(0)} ms`],
        ['the toggle call itself (sent → returned), p50 / p99', `${percentile(callLat, 50).toFixed(0)} / ${percentile(callLat, 99).toFixed(0)} ms`],
        ['frames per second during the burst', fps.toFixed(1)],
      ],
    );
  } finally {
    await browser.close();
    client.close();
    for (const c of children) c.kill('SIGTERM');
    await etcd.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`dashboard benchmark failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
