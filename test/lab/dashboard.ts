/**
 * The dashboard container of a real lab cluster (real kubelets, Docker pods, the lab timing) in
 * chromium: the README's walkthrough as a user sees it. Runs first on the shared lab cluster
 * (test/lab.test.ts), so its timeline holds only its own events; it leaves every node Ready and no
 * Deployment behind. (The README's screenshots of the hollow view come from test/dashboard.test.ts.)
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNodeReady } from '../../api/objects.js';
import { chromium, type Browser, type Page } from 'playwright-core';
import { parseAllDocuments, stringify } from 'yaml';
import type { TestCluster } from '../cluster/index.js';
import { waitFor } from '../support/wait.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHROMIUM = process.env.KUBELAB_CHROMIUM ?? '/usr/bin/chromium';
/** The README's screenshots of a real lab: before the partition, and after the pods moved. */
const SHOT_BEFORE = fileURLToPath(new URL('../../docs/dashboard-lab-before.png', import.meta.url));
const SHOT_AFTER = fileURLToPath(new URL('../../docs/dashboard-lab-after.png', import.meta.url));

let cluster: TestCluster;
let browser: Browser;
let page: Page;

async function kubelab(...args: string[]): Promise<string> {
  const env = { ...process.env, KUBELAB_CLUSTER: cluster.name, ...cluster.cliEnv };
  return (await run('node', ['bin/kubelab.js', ...args], { cwd: ROOT, env, timeout: 60_000 })).stdout;
}

/** Waits (polling the page's DOM) until `selector` matches `n` elements. */
async function waitForCount(selector: string, n: number, timeout = 30_000): Promise<void> {
  await expect.poll(() => page.locator(selector).count(), { timeout, interval: 250 }).toBe(n);
}

export function dashboardSuite(lab: () => TestCluster): void {
  describe.skipIf(!existsSync(CHROMIUM))('the lab dashboard', () => {
    beforeAll(async () => {
      cluster = lab();
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
      page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
      await page.goto(cluster.dashboardUrl ?? '');
    }, 120_000);

    // The next suites get the lab as they would a new one: every node back and Ready, no web Deployment, and
    // no dashboard container spending CPU on their churn (on 2 cores every component slows every test).
    afterAll(async () => {
      await browser?.close();
      if (!cluster) return;
      await cluster.stopComponent('dashboard');
      await cluster.heal('worker-2').catch(() => undefined);
      const w3 = (await cluster.lab.workerContainers()).get('worker-3');
      if (w3 && w3.State !== 'running') await cluster.restart('worker-3');
      await cluster.client.delete('deployments', 'web', { namespace: 'default' }).catch(() => undefined);
      await waitFor(async () => (await cluster.client.list('nodes')).items.filter(isNodeReady).length === 3, { timeoutMs: 90_000, what: 'every node Ready again after the dashboard suite' });
      await waitFor(async () => (await cluster.client.list('pods', { namespace: 'default', labelSelector: 'app=web' })).items.length === 0, { timeoutMs: 90_000, what: 'the web pods of the dashboard suite to be gone' });
    }, 240_000);

    it('shows 3 Ready nodes and the web pods in their nodes; after `kubelab node partition worker-2` a countdown runs out and the pods move', async () => {
      expect(await kubelab('dashboard')).toMatch(/^http:\/\/localhost:\d+\n$/);
      await waitForCount('.node[data-ready="True"]', 3, 60_000);
      // The lab preset's default toleration of an unreachable node is 1 s: too short a window to see the eviction
      // countdown on a loaded machine (ciD: never painted). The pods ask for 8 s themselves, as a user does — in the
      // manifest they are applied with, not by a patch afterwards (a rolling update of every pod: ~20 s here).
      const tolerations = [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 8 }];
      const docs = parseAllDocuments(readFileSync(join(ROOT, 'docs/examples/web.yaml'), 'utf8')).map((d) => d.toJSON() as { kind: string; spec: { template?: { spec: object } } });
      for (const d of docs) if (d.kind === 'Deployment' && d.spec.template) d.spec.template.spec = { ...d.spec.template.spec, tolerations };
      const manifest = join(mkdtempSync(join(tmpdir(), 'kubelab-dashboard-')), 'web.yaml');
      writeFileSync(manifest, docs.map((d) => stringify(d)).join('---\n'));
      await run('kubectl', ['apply', '-f', manifest], { cwd: ROOT, env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath } });
      await kubelab('scale', 'deployment/web', '--replicas', '6');
      await run('kubectl', ['rollout', 'status', 'deployment/web', '--timeout=120s'], { cwd: ROOT, env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath }, timeout: 150_000 });
      await waitForCount('.group[data-owner="Deployment web"] .pod.ready', 6, 90_000);
      const onWorker2 = await page.$$eval('.node[data-node="worker-2"] .pod', (els) => els.length);
      expect(onWorker2).toBeGreaterThan(0);

      // Every value the Ready=Unknown countdown shows, as the browser paints it.
      await page.evaluate(`(() => {
        window.seenCountdown = [];
        const box = document.querySelector('.node[data-node="worker-2"]');
        new MutationObserver(() => {
          const b = box.querySelector('[data-countdown="notready"]');
          if (b) window.seenCountdown.push(parseFloat(b.textContent));
        }).observe(box, { subtree: true, childList: true, characterData: true });
      })()`);
      // A partition, not a crash: the lab preset's Docker signal (docs/timing.md) declares a crashed node lost at
      // once, so a crash may show no lease countdown at all; a cut-off node is noticed only by its lease.
      await page.screenshot({ path: SHOT_BEFORE });
      await kubelab('node', 'partition', 'worker-2');
      const box = '.node[data-node="worker-2"]';
      await page.waitForSelector(`${box} [data-countdown="notready"]`, { timeout: 45_000 });
      await page.waitForSelector(`${box}[data-ready="Unknown"]`, { timeout: 45_000 });
      const shown = (await page.evaluate('window.seenCountdown')) as number[];
      // The countdown ran down as painted.
      expect(shown.length).toBeGreaterThan(2);
      expect(Math.min(...shown)).toBeLessThan(Math.max(...shown));
      await page.waitForSelector(`${box} [data-countdown="eviction"]`, { timeout: 45_000 });
      await waitForCount('.node[data-node="worker-2"] .pod:not(.terminating)', 0);
      await waitForCount('.node:not([data-node="worker-2"]) .group[data-owner="Deployment web"] .pod.ready', 6, 60_000);
      await page.click('.node[data-node="worker-2"] .head');
      await page.screenshot({ path: SHOT_AFTER });

      const reasons = await page.$$eval('#events li', (lis) => lis.map((li) => li.getAttribute('data-reason')));
      const at = (r: string): number => reasons.indexOf(r);
      expect(at('NodeNotReady')).toBeGreaterThanOrEqual(0);
      expect(at('NodeNotReady')).toBeLessThan(at('TaintManagerEviction'));
      expect(reasons.lastIndexOf('SuccessfulCreate')).toBeGreaterThan(at('TaintManagerEviction'));
      await kubelab('node', 'heal', 'worker-2');
      await waitForCount('.node[data-ready="True"]', 3, 60_000);
    }, 300_000);

    it('the crash button crashes a node of the lab', async () => {
      await page.click('.node[data-node="worker-3"] .head');
      await page.click('#detail button[data-action="crash"]');
      await page.click('#confirm-ok');
      await page.waitForSelector('.toast:has-text("worker-3: crash done")', { timeout: 20_000 });
      const w3 = (await cluster.lab.workerContainers()).get('worker-3');
      expect(w3?.State).not.toBe('running');
      await page.waitForSelector('#events li[data-reason="DashboardAction"]', { timeout: 10_000 });
      await page.waitForSelector('.node[data-node="worker-3"][data-ready="Unknown"]', { timeout: 60_000 });
    }, 180_000);
  });
}
