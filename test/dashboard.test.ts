/**
 * The dashboard in a real browser (Debian's chromium through playwright-core), against a real apiserver
 * on etcd, the real scheduler and controller-manager, and test-only fake nodes (they renew leases and run
 * pods on paper; `crash` stops them dead) — so a crash, its countdowns and the evictions take seconds.
 * The containerized lab variant (real kubelets, `kubelab node crash`) is test/lab/dashboard.ts (in test/lab.test.ts).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import WebSocket from 'ws';
import { compileControllerManagerConfig, startControllerManager } from '../controller-manager/index.js';
import { compileSchedulerConfig, startScheduler, type RunningScheduler } from '../scheduler/index.js';
import { compileDashboardConfig, startDashboard, type RunningDashboard } from '../dashboard/index.js';
import { buildDashboard } from '../dashboard/build.js';
import { startControlPlane, type TestControlPlane } from './support/apiserver.js';
import { freePort } from './support/etcd.js';
import { startFakeNodes, type FakeNodes } from './support/fakekubelet.js';
import { waitFor } from './support/wait.js';

export const CHROMIUM = process.env.KUBELAB_CHROMIUM ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
/** The README's screenshots: the cluster view before the crash and after the pods moved. */
const SHOT_BEFORE = fileURLToPath(new URL('../docs/dashboard-before.png', import.meta.url));
const SHOT_AFTER = fileURLToPath(new URL('../docs/dashboard-after.png', import.meta.url));

let cp: TestControlPlane;
let nodes: FakeNodes;
let sched: RunningScheduler;
let dash: RunningDashboard;
let browser: Browser;
let page: Page;
let url: string;
const ctl = new AbortController();
let cmDone: Promise<void>;
const crashed: string[] = [];

beforeAll(async () => {
  // The bundle as `npm run build` makes it (minified): the same bytes leave dist/ untouched. An unminified one was
  // written here before, which made dist/ newer than the images and sent every later `lab up` of the run into
  // deploy/build-images.sh (18.8 s of the compose test in ci6).
  await buildDashboard();
  cp = await startControlPlane({ defaultTolerationSeconds: 2 });
  nodes = await startFakeNodes(cp.address, ['worker-1', 'worker-2', 'worker-3'], { leaseRenewMs: 500 });
  const schedAdmin = await freePort();
  sched = await startScheduler(
    compileSchedulerConfig({ apiserver: cp.address, adminPort: schedAdmin, bindAddress: '127.0.0.1', identity: '127.0.0.1_dashboard-test', podInitialBackoffMs: 200, podMaxBackoffMs: 1000 }),
    ctl.signal,
  );
  cmDone = startControllerManager(
    compileControllerManagerConfig({ apiserver: cp.address, adminPort: 0, bindAddress: '127.0.0.1', timing: 'lab', leaderElect: false, nodeMonitorGracePeriodMs: 3000, nodeMonitorPeriodMs: 500 }),
    ctl.signal,
  );
  dash = await startDashboard(compileDashboardConfig({ apiserver: cp.address, port: 0, bindAddress: '127.0.0.1', schedulerAdminPort: schedAdmin }), ctl.signal, {
    staticDir: new URL('../dist/dashboard/web/', import.meta.url),
    nodeFaults: {
      crash: async (n) => {
        crashed.push(n);
        nodes.crash(n);
      },
      partition: async () => undefined,
      heal: async () => undefined,
      restart: async () => undefined,
    },
  });
  url = `http://127.0.0.1:${dash.port}/`;
  if (hasChromium) {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(url);
  }
}, 120_000);

afterAll(async () => {
  await browser?.close();
  ctl.abort();
  await dash?.done;
  await sched?.done.catch(() => undefined);
  await cmDone?.catch(() => undefined);
  await nodes?.close();
  await cp?.stop();
});

function deployment(name: string, replicas: number, cpu = '10m'): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'kubelab/busybox', resources: { requests: { cpu } } }] } },
    },
  };
}

/** Waits (polling the page's DOM) until `selector` matches `n` elements. */
async function waitForCount(selector: string, n: number, timeout = 30_000): Promise<void> {
  await expect.poll(() => page.locator(selector).count(), { timeout, interval: 100 }).toBe(n);
}

/** Opens a WebSocket to the dashboard and collects its messages. */
async function socket(): Promise<{ ws: WebSocket; next: (pred: (m: Record<string, unknown>) => boolean) => Promise<Record<string, unknown>> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${dash.port}/ws`);
  const seen: Record<string, unknown>[] = [];
  ws.on('message', (d: Buffer) => seen.push(JSON.parse(d.toString()) as Record<string, unknown>));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return {
    ws,
    next: async (pred) => {
      let found: Record<string, unknown> | undefined;
      await waitFor(() => (found = seen.find(pred)) !== undefined, { what: 'dashboard reply', timeoutMs: 10_000 });
      return found as Record<string, unknown>;
    },
  };
}

describe.skipIf(!hasChromium)('dashboard in a browser', () => {
  it('shows 3 Ready nodes and the pods of a new Deployment in their nodes, grouped by owner', async () => {
    await waitForCount('.node[data-ready="True"]', 3);
    await cp.client.create('deployments', deployment('web', 6) as never, { namespace: 'default' });
    await waitForCount('.node .group[data-owner="Deployment web"] .pod.ready', 6);
    const perNode = await page.$$eval('.node', (els) => els.map((e) => e.querySelectorAll('.pod').length));
    expect(perNode.reduce((a, b) => a + b, 0)).toBe(6);
    expect(perNode.filter((n) => n > 0).length).toBeGreaterThan(1);
  });

  it("shows a pod's disruption budget: how many evictions it allows now, and that a drain waits at 0", async () => {
    await cp.client.create('poddisruptionbudgets', { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web-all', namespace: 'default' }, spec: { minAvailable: 6, selector: { matchLabels: { app: 'web' } } } } as never);
    const pod = await page.getAttribute('.node .group[data-owner="Deployment web"] .pod.ready', 'data-pod');
    await page.click(`[data-pod="${pod}"]`);
    // The disruption controller fills the status; the panel follows it.
    await page.waitForSelector('#detail [data-pdb="web-all"][data-disruptions-allowed="0"]', { timeout: 15_000 });
    expect(await page.textContent('#detail [data-pdb="web-all"]')).toContain('6 healthy of 6, 6 needed · 0 evictions allowed now — a drain waits');
    // A looser budget, at once: the pods of the namespace are matched again.
    await cp.client.patch('poddisruptionbudgets', 'web-all', { spec: { minAvailable: 4 } }, { namespace: 'default', type: 'merge' });
    await page.waitForSelector('#detail [data-pdb="web-all"][data-disruptions-allowed="2"]', { timeout: 15_000 });
    await cp.client.delete('poddisruptionbudgets', 'web-all', { namespace: 'default' });
    await page.waitForSelector('#detail [data-pdb="web-all"]', { state: 'detached', timeout: 15_000 });
  });

  it('lists "Insufficient cpu" for each node in the scheduler panel of an unschedulable pod', async () => {
    await cp.client.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'huge', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '64' } } }] } } as never, {
      namespace: 'default',
    });
    await page.click('[data-pending="default/huge"]');
    await page.waitForSelector('#sched-table');
    const rows = await page.$$eval('#sched-table tr[data-node]', (trs) => trs.map((tr) => [tr.getAttribute('data-node'), tr.querySelector('.filter')?.textContent ?? '']));
    expect(rows.map((r) => r[0]).sort()).toEqual(['worker-1', 'worker-2', 'worker-3']);
    for (const [, verdict] of rows) expect(verdict).toContain('Insufficient cpu');
    expect(await page.textContent('#pending')).toContain('Insufficient cpu');
    await cp.client.delete('pods', 'huge', { namespace: 'default', gracePeriodSeconds: 0 });
  });

  it('crash button: the node turns NotReady with a countdown that reaches zero, then its pods move; the timeline has the chain in order', async () => {
    // As the README's walkthrough: worker-2.
    const victim = 'worker-2';
    const podsOnVictim = await page.$$eval(`.node[data-node="${victim}"] .pod`, (els) => els.map((e) => e.getAttribute('data-pod')));
    expect(podsOnVictim.length).toBeGreaterThan(0);
    await page.screenshot({ path: SHOT_BEFORE });
    await page.click(`.node[data-node="${victim}"] .head`);
    await page.click('#detail button[data-action="crash"]');
    // Every value the Ready=Unknown countdown shows, as the browser paints it.
    await page.evaluate(`(() => {
      window.seenCountdown = [];
      const box = document.querySelector('.node[data-node="${victim}"]');
      new MutationObserver(() => {
        const b = box.querySelector('[data-countdown="notready"]');
        if (b) window.seenCountdown.push(parseFloat(b.textContent));
      }).observe(box, { subtree: true, childList: true, characterData: true });
    })()`);
    await page.click('#confirm-ok');
    await waitFor(() => crashed.includes(victim), { what: 'crash called' });
    // The countdown to Ready=Unknown appears and runs down to zero (the controller marks the node at its
    // next check, within node-monitor-period of it); a starved browser may skip the last tenths.
    await page.waitForSelector(`.node[data-node="${victim}"] [data-countdown="notready"]`, { timeout: 10_000 });
    await page.waitForSelector(`.node[data-node="${victim}"][data-ready="Unknown"]`, { timeout: 10_000 });
    const shown = (await page.evaluate('window.seenCountdown')) as number[];
    expect(shown.length).toBeGreaterThan(2);
    expect(shown.every((v, i) => i === 0 || v <= shown[i - 1])).toBe(true);
    expect(Math.min(...shown)).toBeLessThanOrEqual(1.0);
    // Then the eviction countdown (tolerationSeconds 2 from the taint's timeAdded) reaches zero too, and the pods move.
    await page.waitForSelector(`.node[data-node="${victim}"] [data-countdown="eviction"]`, { timeout: 10_000 });
    await waitForCount(`.node[data-node="${victim}"] .pod:not(.terminating)`, 0, 20_000);
    await waitForCount(`.node:not([data-node="${victim}"]) .group[data-owner="Deployment web"] .pod.ready`, 6, 20_000);
    await page.screenshot({ path: SHOT_AFTER });
    // Timeline: the dashboard's own action, NodeNotReady, the evictions, replacements created and scheduled — in this order.
    await page.fill('#filter', '');
    const firstIndex = async (reason: string): Promise<number> => page.$$eval('#events li', (lis, r) => lis.findIndex((li) => li.getAttribute('data-reason') === r), reason);
    await page.waitForSelector('#events li[data-reason="TaintManagerEviction"]', { state: 'attached' });
    const order = await Promise.all(['DashboardAction', 'NodeNotReady', 'TaintManagerEviction', 'SuccessfulCreate'].map(firstIndex));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect(order[0]).toBeLessThan(order[1]);
    expect(order[1]).toBeLessThan(order[2]);
    const lastCreate = await page.$$eval('#events li', (lis) => lis.map((li) => li.getAttribute('data-reason')).lastIndexOf('SuccessfulCreate'));
    expect(lastCreate).toBeGreaterThan(order[2]);
  });
});

describe('dashboard endpoints refuse bad input and keep serving', () => {
  it('answers malformed WebSocket messages, unknown actions and a missing node with clear errors', async () => {
    const a = await socket();
    const b = await socket();
    a.ws.send('not json');
    expect((await a.next((m) => m.t === 'error')).error).toMatch(/not JSON/);
    a.ws.send(Buffer.from([0, 1, 2]), { binary: true });
    a.ws.send(JSON.stringify({ t: 'action', action: 'crash', node: 'worker-1' }));
    expect((await a.next((m) => m.t === 'error' && /"id"/.test(String(m.error)))).error).toMatch(/needs "id"/);
    a.ws.send(JSON.stringify({ t: 'action', id: 'u1', action: 'explode', node: 'worker-1' }));
    expect((await a.next((m) => m.id === 'u1')).error).toMatch(/unknown action "explode"; known: crash/);
    a.ws.send(JSON.stringify({ t: 'action', id: 'm1', action: 'crash', node: 'no-such-node' }));
    expect((await a.next((m) => m.id === 'm1')).error).toMatch(/node "no-such-node" not found; the cluster's nodes are: worker-1, worker-2, worker-3/);
    a.ws.send(JSON.stringify({ t: 'action', id: 'm2', action: 'cordon', node: '../etc' }));
    expect((await a.next((m) => m.id === 'm2')).error).toMatch(/lower-case DNS name/);
    a.ws.send(JSON.stringify({ t: 'action', id: 's1', action: 'scale', resource: 'deployments', namespace: 'default', name: 'web', replicas: -1 }));
    expect((await a.next((m) => m.id === 's1')).error).toMatch(/integer from 0 to 10000/);
    a.ws.send('x'.repeat(20_000));
    expect(crashed).not.toContain('no-such-node');
    // The other browser was not disturbed, and both still get answers.
    b.ws.send(JSON.stringify({ t: 'action', id: 'ok1', action: 'cordon', node: 'worker-3' }));
    expect(await b.next((m) => m.id === 'ok1')).toMatchObject({ ok: true, message: 'node/worker-3 cordoned' });
    a.ws.send(JSON.stringify({ t: 'action', id: 'ok2', action: 'uncordon', node: 'worker-3' }));
    expect(await a.next((m) => m.id === 'ok2')).toMatchObject({ ok: true });
    a.ws.close();
    b.ws.close();
    // Another site open in the same browser may not use the socket.
    const foreign = new WebSocket(`ws://127.0.0.1:${dash.port}/ws`, { headers: { origin: 'http://evil.example' } });
    const refused = await new Promise<string>((resolve) => {
      foreign.once('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      foreign.once('error', (err) => resolve(err.message));
      foreign.once('open', () => resolve('open'));
    });
    expect(refused).not.toBe('open');
    const res = await fetch(`http://127.0.0.1:${dash.port}/nope`);
    expect(res.status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${dash.port}/`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`http://127.0.0.1:${dash.port}/healthz`)).status).toBe(200);
  });
});
