/**
 * `npm test` first removes the test clusters of runs that were killed mid-way (deploy/reap-stale-clusters.sh):
 * Docker restarts such clusters with itself, and they would load every later run. Only clusters whose owner
 * process is gone go; another live run's clusters and labs without an owner stay.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { removeCluster } from '../cli/lab/docker.js';
import { ownerOfThisProcess } from './cluster/index.js';

const run = promisify(execFile);
const docker = new Docker();
const suffix = process.pid.toString(36);
const clusters = { dead: `reap-dead-${suffix}`, live: `reap-live-${suffix}`, lab: `reap-lab-${suffix}` };

async function fakeCluster(cluster: string, owner?: string): Promise<void> {
  const labels = { 'io.kubelab.cluster': cluster, 'io.kubelab.test': 'reap', ...(owner ? { 'io.kubelab.owner': owner } : {}) };
  await docker.createNetwork({ Name: `kubelab-${cluster}`, Driver: 'bridge', Labels: labels });
  const c = await docker.createContainer({ Image: 'kubelab/busybox', Cmd: ['sleep', '600'], Labels: labels, HostConfig: { NetworkMode: `kubelab-${cluster}` } });
  await c.start();
}

const present = async (cluster: string): Promise<{ containers: number; networks: number }> => {
  const filters = JSON.stringify({ label: [`io.kubelab.cluster=${cluster}`] });
  return { containers: (await docker.listContainers({ all: true, filters })).length, networks: (await docker.listNetworks({ filters })).length };
};

afterAll(async () => {
  for (const c of Object.values(clusters)) await removeCluster(docker, c);
});

describe('removing stale test clusters', () => {
  it("removes a cluster whose owner process is gone, and keeps a live run's and an ownerless lab's", async () => {
    // A pid that exists with another start time is a reused pid: its cluster is stale too.
    await fakeCluster(clusters.dead, `${process.pid}:1`);
    await fakeCluster(clusters.live, ownerOfThisProcess());
    await fakeCluster(clusters.lab);
    const { stderr } = await run('bash', ['deploy/reap-stale-clusters.sh'], { timeout: 60_000 });
    expect(stderr).toContain(`removing test cluster ${clusters.dead} left by an earlier run`);
    expect(await present(clusters.dead)).toEqual({ containers: 0, networks: 0 });
    expect(await present(clusters.live)).toEqual({ containers: 1, networks: 1 });
    expect(await present(clusters.lab)).toEqual({ containers: 1, networks: 1 });
  }, 90_000);
});
