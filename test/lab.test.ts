/**
 * One lab cluster for every suite that uses a whole cluster as a user does: 3 workers, the lab timing, TLS,
 * 2 schedulers and 2 controller-managers, the ingress controller and the dashboard — `npm run lab`'s shape.
 * Starting it costs ~15–25 s on a 2-core machine; sharing it saves that for each suite (issue 22's time budget).
 *
 * The suites run in this order, each leaving the lab as it found it (every node Ready, its own objects gone):
 *   1. the dashboard in chromium (first: its timeline must hold only its own events; then the dashboard stops),
 *   2. Ingress through nginx and an HPA under load (namespace ingress-test; then the ingress controller stops),
 *   3. the secure cluster as a user meets it (kubectl, RBAC, Pod Security, a node added at runtime),
 *   4. the README walkthrough end to end (crash, partition, control-plane faults, kubectl's everyday verbs),
 * and last, what all of them did to the lab must not have made a healthy node look lost.
 *
 * One suite alone: `npx vitest run test/lab.test.ts -t Ingress` (the cluster starts all the same).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from './cluster/index.js';
import { dashboardSuite } from './lab/dashboard.js';
import { e2eSuite } from './lab/e2e.js';
import { ingressSuite } from './lab/ingress.js';
import { securitySuite } from './lab/security.js';

let cluster: TestCluster | undefined;
const lab = (): TestCluster => {
  if (!cluster) throw new Error('the lab cluster did not start (see the beforeAll error above)');
  return cluster;
};

beforeAll(async () => {
  cluster = await startCluster({
    workers: 3,
    timing: 'lab',
    ingress: true,
    dashboard: true,
    startTimeoutMs: 240_000,
    onProgress: (l) => process.env.KUBELAB_TEST_LOG && process.stderr.write(`${l}\n`),
  });
}, 300_000);

afterAll(async () => {
  await cluster?.stop();
}, 120_000);

dashboardSuite(lab);
ingressSuite(lab);
securitySuite(lab);
e2eSuite(lab);

describe('the lab after every suite', () => {
  // Crashes, partitions, control-plane restarts, an apiserver outage, hostile requests, load, a second cluster:
  // none of it may have made a node that was not disturbed on purpose look lost.
  it('no node went NotReady unless it was crashed, partitioned or removed', async () => {
    const disturbed = new Set(['worker-2', 'worker-3', 'worker-4']);
    const events = (await lab().client.list('events', {})).items.filter((e) => e.reason === 'NodeNotReady' && e.involvedObject?.kind === 'Node');
    const flaps = events.filter((e) => !disturbed.has(e.involvedObject?.name ?? '')).map((e) => `${e.involvedObject?.name} at ${e.lastTimestamp ?? e.eventTime}`);
    expect(flaps).toEqual([]);
    expect(events.some((e) => e.involvedObject?.name === 'worker-2'), 'the crash itself was recorded').toBe(true);
  });
});
