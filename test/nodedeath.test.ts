/**
 * The lab preset's Docker signal for lost nodes (controller-manager/nodedeath.ts) against real Docker:
 * a node container that is killed and stays down is reported lost within the confirmation time; one that
 * `docker restart` brings straight back is not (a kubelet restart is not a lost node); one already dead when
 * the watch begins is found by its first list; a start is reported.
 * Node containers here are busybox containers with a lab worker's labels in a cluster of this test's own.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { realClock } from '../component-base/clock.js';
import { nullLogger } from '../component-base/log.js';
import { watchNodeDeaths } from '../controller-manager/nodedeath.js';
import { CLUSTER_LABEL, docker, removeByLabel } from './support/docker.js';
import { waitFor } from './support/wait.js';

const CLUSTER = `nodedeath-${process.pid}`;
const CONFIRM_MS = 1_000;

async function nodeContainer(node: string): Promise<string> {
  const c = await docker().createContainer({
    name: `${CLUSTER}-${node}`,
    Image: 'kubelab/busybox:latest',
    Cmd: ['sleep', '3600'],
    Labels: { 'io.kubelab.cluster': CLUSTER, 'io.kubelab.component': 'node', 'io.kubelab.worker': node },
    HostConfig: { NetworkMode: 'none' },
  });
  await c.start();
  return c.id;
}

afterAll(async () => {
  await removeByLabel(CLUSTER_LABEL, CLUSTER);
}, 60_000);

describe('node containers dying in Docker (lab signal)', () => {
  it('reports a killed node as lost once it stays down, a restarted one not, and a start as back', async () => {
    const a = await nodeContainer('worker-a');
    const b = await nodeContainer('worker-b');
    // A node that died before the watch began is found by its first list.
    const z = await nodeContainer('worker-z');
    await docker().getContainer(z).kill();
    const ctl = new AbortController();
    const lost: { node: string; at: number }[] = [];
    const back: string[] = [];
    const done = watchNodeDeaths(
      { cluster: CLUSTER, confirmMs: CONFIRM_MS, log: nullLogger(), clock: realClock, onLost: (node) => lost.push({ node, at: Date.now() }), onBack: (node) => back.push(node) },
      ctl.signal,
    );
    try {
      // The event stream is live once a third node's start is seen.
      await nodeContainer('worker-c');
      await waitFor(async () => back.includes('worker-c'), { timeoutMs: 15_000, intervalMs: 50, what: 'the watch to see worker-c start' });

      const t0 = Date.now();
      await docker().getContainer(a).kill();
      expect(lost.map((l) => l.node)).toEqual(['worker-z']);
      await waitFor(async () => lost.some((l) => l.node === 'worker-a'), { timeoutMs: 15_000, intervalMs: 50, what: 'worker-a lost' });
      const after = (lost.find((l) => l.node === 'worker-a')?.at ?? 0) - t0;
      expect(after).toBeGreaterThanOrEqual(CONFIRM_MS);
      expect(after).toBeLessThan(CONFIRM_MS + 5_000);

      const backs = back.filter((n) => n === 'worker-b').length;
      await docker().getContainer(b).restart({ t: 0 });
      // Past the confirmation time: the restart was no loss.
      await waitFor(async () => back.filter((n) => n === 'worker-b').length > backs, { timeoutMs: 15_000, intervalMs: 50, what: 'worker-b start seen' });
      await new Promise((r) => setTimeout(r, CONFIRM_MS + 500)); // the absence of an event has no event to wait for
      expect(lost.map((l) => l.node)).toEqual(['worker-z', 'worker-a']);

      await docker().getContainer(a).start();
      await waitFor(async () => back.includes('worker-a'), { timeoutMs: 15_000, intervalMs: 50, what: 'worker-a back' });
    } finally {
      ctl.abort();
      await done;
    }
  }, 90_000);
});
