/**
 * The compose lab as a user runs it (README: "The two commands"): `docker compose up` alone, then
 * `docker compose down -v` leaves nothing (the reaper removes the kubelets' pod containers);
 * `kubelab lab up --workers 4` (generated override), `kubelab lab status`, `kubelab lab down`.
 * The compose lab has fixed names, ports (6443/7443) and subnet, so this file is skipped when a lab
 * is already running on this machine: it never touches a user's lab.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../client/api.js';
import { isNodeReady } from '../api/objects.js';
import { clientTlsFromPkiDir, type ClientTls } from '../component-base/tls.js';
import { kubeconfigYaml } from '../cli/lab/spec.js';
import { composeCommand, labDown } from '../cli/lab/compose.js';
import { waitFor } from './support/wait.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const docker = new Docker();
const CLUSTER = 'io.kubelab.cluster=kubelab';

const labRunning = (await docker.listNetworks({ filters: JSON.stringify({ name: ['kubelab'] }) })).some((n) => n.Name === 'kubelab');

async function leftovers(): Promise<{ containers: number; networks: number; volumes: number }> {
  const filters = JSON.stringify({ label: [CLUSTER] });
  return {
    containers: (await docker.listContainers({ all: true, filters })).length,
    networks: (await docker.listNetworks({ filters })).length,
    volumes: ((await docker.listVolumes({ filters })).Volumes ?? []).length,
  };
}

describe.skipIf(labRunning)('compose lab (docker-compose.yml, kubelab lab)', () => {
  let client: ApiClient | undefined;
  // The compose lab is TLS only: its `pki` service issues the PKI into .kubelab/pki on first start.
  const pkiDir = join(ROOT, '.kubelab', 'pki');
  const admin = (): ApiClient => (client ??= new ApiClient('127.0.0.1:7443', { tls: clientTlsFromPkiDir(pkiDir, 'admin') }));
  afterAll(async () => {
    client?.close();
    await labDown(() => undefined);
  }, 120_000);

  it('comes up with `docker compose up` alone and `docker compose down -v` removes pods, volume and network', async () => {
    const compose = await composeCommand();
    await run(compose[0] ?? 'docker', [...compose.slice(1), 'up', '-d'], { cwd: ROOT, timeout: 120_000 });
    await waitFor(async () => existsSync(join(pkiDir, 'admin.crt')) && (await admin().list('nodes')).items.filter(isNodeReady).length === 3, { timeoutMs: 90_000, intervalMs: 500, what: '3 Ready nodes' });
    const kc = join(pkiDir, '..', 'e2e-compose.kubeconfig');
    writeFileSync(kc, kubeconfigYaml('kubelab', 'https://127.0.0.1:6443', clientTlsFromPkiDir(pkiDir, 'admin') as Required<ClientTls>), { mode: 0o600 });
    await run('kubectl', ['--kubeconfig', kc, 'apply', '-f', 'docs/examples/web.yaml'], { cwd: ROOT });
    rmSync(kc, { force: true });
    await waitFor(
      async () => (await admin().list('pods', { namespace: 'default', labelSelector: 'app=web' })).items.filter((p) => p.status?.phase === 'Running').length === 3,
      { timeoutMs: 90_000, intervalMs: 500, what: '3 web pods Running' },
    );
    const pods = await docker.listContainers({ filters: JSON.stringify({ label: [CLUSTER, 'io.kubelab.pod.uid'] }) });
    expect(pods.length).toBeGreaterThanOrEqual(6); // pause + httpd per pod

    await run(compose[0] ?? 'docker', [...compose.slice(1), 'down', '-v'], { cwd: ROOT, timeout: 120_000 });
    expect(await leftovers()).toEqual({ containers: 0, networks: 0, volumes: 0 });
  });

  // `lab up` gives up by itself after --timeout (180 s by default); the test waits a little longer so that
  // it never abandons a `lab up` that is still running (a second one would then race with it).
  it('`kubelab lab up --workers 4` clears a previous lab\'s leftovers, reports progress, writes the kubeconfig; `lab status`; `lab down` removes everything', { timeout: 240_000 }, async () => {
    // A pod container of a lab whose reaper never ran (e.g. the host lost power): `lab up` must not adopt it.
    const stale = await docker.createContainer({
      Image: 'kubelab/busybox:latest',
      Cmd: ['sleep', '600'],
      Labels: { 'io.kubelab.cluster': 'kubelab', 'io.kubelab.pod.uid': 'stale-uid', 'io.kubelab.container': 'POD' },
    });
    await stale.start();
    const up = await run('node', ['bin/kubelab.js', 'lab', 'up', '--workers', '4', '--timeout', '180', '--verbose'], { cwd: ROOT, timeout: 200_000 });
    // Where lab up's time went, in the test log (CI runs are read from it).
    const phases = up.stdout.slice(up.stdout.indexOf('where the time went'));
    console.log(phases.slice(0, phases.indexOf('\nNext:')));
    // Two steps: what the nodes need first, the rest when the apiserver answers (which it did, since they started).
    expect(phases).toMatch(/docker compose up \(etcd, apiserver, nodes\)\s+[\d.]+ s/);
    expect(phases).toMatch(/scheduler, controller-managers and add-ons started\s+[\d.]+ s/);
    expect(up.stdout).toMatch(/previous lab: 1 container\(s\) left \(1 running\); removing them first/);
    await expect(stale.inspect()).rejects.toMatchObject({ statusCode: 404 });
    for (const milestone of ['etcd healthy', 'apiserver answering', 'nodes Ready 4/4', 'components healthy', 'cluster ready in']) expect(up.stdout).toContain(milestone);
    expect(up.stdout).toContain('export KUBECONFIG=');
    const kubeconfig = join(ROOT, '.kubelab', 'kubeconfig');
    expect(existsSync(kubeconfig)).toBe(true);
    const info = JSON.parse(readFileSync(join(ROOT, '.kubelab', 'kubelab.json'), 'utf8')) as { server: string; workers: string[] };
    expect(info.server).toBe('127.0.0.1:7443');
    expect(info.workers).toEqual(['worker-1', 'worker-2', 'worker-3', 'worker-4']);
    const nodes = await run('kubectl', ['get', 'nodes'], { cwd: ROOT, env: { ...process.env, KUBECONFIG: kubeconfig } });
    expect(nodes.stdout).toMatch(/worker-4\s+Ready/);
    const status = await run('node', ['bin/kubelab.js', 'lab', 'status'], { cwd: ROOT });
    expect(status.stdout).toMatch(/worker-4\s+Ready/);
    expect(status.stdout).toMatch(/kubelab-scheduler-\d\s+scheduler\s+healthy\s+leader/);

    // Another client removes containers of the lab at the same moment (as the reaper does during
    // `compose down`): `lab down` must still succeed and leave nothing.
    const racing = docker
      .listContainers({ all: true, filters: JSON.stringify({ label: [CLUSTER, 'io.kubelab.component=node'] }) })
      .then((list) => Promise.allSettled(list.map((c) => docker.getContainer(c.Id).remove({ force: true }))));
    const downAt = Date.now();
    await run('node', ['bin/kubelab.js', 'lab', 'down'], { cwd: ROOT, timeout: 120_000 });
    console.log(`lab down: ${((Date.now() - downAt) / 1000).toFixed(1)} s`);
    await racing;
    expect(await leftovers()).toEqual({ containers: 0, networks: 0, volumes: 0 });
    expect(existsSync(join(ROOT, '.kubelab', 'kubelab.json'))).toBe(false);
  });
});
