/**
 * False-NotReady soak (issue 18): a 3-worker test cluster runs for --minutes (30) untouched, or with --load 1
 * under load (a CPU-burning pod per node plus a churn loop that keeps deleting and recreating 30 pods);
 * every Ready → not-Ready transition of a node (none is faulted) is a false alarm. Prints the count (goal 0),
 * the NodeNotReady events, the load average and the churn done. Not for CI: it takes the whole duration.
 * Run: npm run build && node dist/bench/soak.js [--minutes 30] [--load 1] [--timing lab|default]
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { nodeCondition } from '../api/objects.js';
import { isTimingPreset, type TimingPreset } from '../component-base/timing.js';
import type { core } from '../api/types.js';
import { startCluster } from '../test/cluster/index.js';
import { flag, median, printTable } from './stats.js';

const NS = 'soak';

function deployment(name: string, replicas: number, command: string[]): unknown {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'kubelab/busybox:latest', imagePullPolicy: 'IfNotPresent', command }] },
      },
    },
  };
}

/** Every container's log of the cluster (timestamps on), into a directory named on stderr: what a flap needs. */
async function saveLogs(cluster: string): Promise<void> {
  const docker = new Docker();
  const dir = mkdtempSync(join(tmpdir(), 'kubelab-soak-logs-'));
  for (const info of await docker.listContainers({ all: true })) {
    const name = (info.Names[0] ?? '').replace(/^\//, '');
    if (!name.startsWith(cluster)) continue;
    const buf = (await docker.getContainer(info.Id).logs({ stdout: true, stderr: true, timestamps: true, follow: false })) as unknown as Buffer;
    writeFileSync(join(dir, `${name}.log`), buf);
  }
  process.stderr.write(`[soak] the cluster's container logs: ${dir}\n`);
}

async function main(): Promise<void> {
  const minutes = flag('minutes', 30);
  const load = flag('load', 0) === 1;
  const arg = process.argv[process.argv.indexOf('--timing') + 1];
  const timing: TimingPreset = process.argv.includes('--timing') && isTimingPreset(arg) ? arg : 'lab';
  const c = await startCluster({ workers: 3, name: `bench-soak-${process.pid}`, timing, startTimeoutMs: 300_000 });
  const ctl = new AbortController();
  const flaps: string[] = [];
  const loads: number[] = [];
  let churned = 0;
  try {
    await c.client.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    if (load) {
      // One CPU burner per node (3 replicas spread over 3 workers) and 30 pods to churn.
      await c.client.create('deployments', deployment('burn', 3, ['sh', '-c', 'while :; do :; done']) as never);
      await c.client.create('deployments', deployment('churn', 30, ['sleep', '3600']) as never);
    }
    // Each node's last Lease renewal as this process saw it: a flap says whether the kubelet stopped renewing
    // (its renewTime old) or the renewals kept coming and the node lifecycle controller missed them.
    const renewed = new Map<string, { renewTime: string; seenAt: number }>();
    const watchLeases = async (): Promise<void> => {
      while (!ctl.signal.aborted) {
        try {
          for await (const ev of c.client.watch('leases', { namespace: 'kube-node-lease', signal: ctl.signal })) {
            const l = ev.object as { metadata?: { name?: string }; spec?: { renewTime?: string } };
            const prev = renewed.get(l.metadata?.name ?? '');
            if (l.spec?.renewTime && l.spec.renewTime !== prev?.renewTime) renewed.set(l.metadata?.name ?? '', { renewTime: l.spec.renewTime, seenAt: Date.now() });
          }
        } catch {
          if (!ctl.signal.aborted) await new Promise((r) => setTimeout(r, 500));
        }
      }
    };
    const leaseNote = (name: string): string => {
      const r = renewed.get(name);
      if (!r) return 'no Lease renewal seen';
      return `Lease renewTime ${r.renewTime}, seen ${((Date.now() - r.seenAt) / 1000).toFixed(1)} s before (renewed ${((Date.now() - Date.parse(r.renewTime)) / 1000).toFixed(1)} s before by its own clock)`;
    };
    const last = new Map<string, string>();
    const watchNodes = async (): Promise<void> => {
      while (!ctl.signal.aborted) {
        try {
          for await (const ev of c.client.watch('nodes', { signal: ctl.signal })) {
            const n = ev.object as core.Node;
            const name = n.metadata?.name ?? '';
            const status = nodeCondition(n, 'Ready')?.status ?? 'None';
            if (last.get(name) === 'True' && status !== 'True') flaps.push(`${name} ${status} at ${new Date().toISOString()}; ${leaseNote(name)}`);
            last.set(name, status);
          }
        } catch {
          if (!ctl.signal.aborted) await new Promise((r) => setTimeout(r, 500));
        }
      }
    };
    const churn = async (): Promise<void> => {
      while (load && !ctl.signal.aborted) {
        const pods = (await c.client.list('pods', { namespace: NS, labelSelector: 'app=churn' }).catch(() => ({ items: [] as core.Pod[] }))).items;
        const victim = pods[Math.floor(Math.random() * pods.length)];
        if (victim) {
          await c.client.delete('pods', victim.metadata?.name ?? '', { namespace: NS }).catch(() => undefined);
          churned++;
        }
        await new Promise((r) => setTimeout(r, 1_000));
      }
    };
    void watchLeases();
    void watchNodes();
    void churn();
    const end = Date.now() + minutes * 60_000;
    while (Date.now() < end) {
      loads.push(loadavg()[0] ?? NaN);
      process.stderr.write(`[soak] ${Math.round((end - Date.now()) / 1000)} s left, false NotReady so far ${flaps.length}, load ${loadavg()[0]?.toFixed(1)}\n`);
      await new Promise((r) => setTimeout(r, 60_000));
    }
    const events = (await c.client.list('events', {})).items.filter((e) => e.reason === 'NodeNotReady' && e.involvedObject?.kind === 'Node');
    printTable(`False-NotReady soak (${timing} preset, ${minutes} min, ${load ? 'under load' : 'idle'})`, ['what', 'value'], [
      ['Ready → not-Ready transitions (no node was faulted; goal 0)', flaps.length],
      ['NodeNotReady events', events.length],
      ['pods churned (deleted and replaced)', churned],
      ['load average (1 min): median / max', `${median(loads).toFixed(1)} / ${Math.max(...loads).toFixed(1)}`],
      ...flaps.map((f) => ['flap', f] as [string, string]),
    ]);
    if (flaps.length > 0) await saveLogs(c.name);
  } finally {
    ctl.abort();
    await c.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
