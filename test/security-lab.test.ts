/**
 * A secure test cluster (the default) in Docker, as a user meets it: kubectl works with the written
 * kubeconfig alone (discovery, apply, logs, exec, auth whoami), the host without credentials gets 401 on
 * resources and 200 on /healthz and /version, a kubelet's 10250 and etcd refuse callers without the right
 * client certificate — also from inside a pod — and a node added at runtime gets its own certificates.
 */
import { execFile } from 'node:child_process';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exec } from '../cli/lab/docker.js';
import { addressPlan, workerIp } from '../cli/lab/spec.js';
import type { core } from '../client/types.js';
import { startCluster, type TestCluster } from './cluster/index.js';
import { waitFor } from './support/wait.js';

const run = promisify(execFile);
let cluster: TestCluster;

function get(url: string, opts: RequestOptions = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ...opts, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const kubectl = async (...args: string[]): Promise<string> =>
  (await run('kubectl', args, { env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath }, timeout: 120_000 })).stdout;

beforeAll(async () => {
  cluster = await startCluster({ workers: 1, controlPlaneReplicas: 1, onProgress: (l) => process.env.KUBELAB_TEST_LOG && process.stderr.write(`${l}\n`) });
}, 240_000);

afterAll(async () => {
  await cluster?.stop();
}, 120_000);

describe('a secure test cluster', () => {
  it('kubectl with the written kubeconfig: verified server, the admin identity', async () => {
    expect(cluster.restUrl.startsWith('https://')).toBe(true);
    expect(await kubectl('get', 'nodes', '-o', 'name')).toContain('node/worker-1');
    const who = JSON.parse(await kubectl('auth', 'whoami', '-o', 'json')) as { status: { userInfo: { username: string; groups: string[] } } };
    expect(who.status.userInfo).toEqual({ username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] });
  });

  it('the host without credentials: 200 on /healthz and /version, 401 on resources', async () => {
    const ca = cluster.adminTls?.ca;
    expect((await get(`${cluster.restUrl}/healthz`, { ca })).status).toBe(200);
    expect((await get(`${cluster.restUrl}/version`, { ca })).status).toBe(200);
    expect((await get(`${cluster.restUrl}/api/v1/secrets`, { ca })).status).toBe(401);
  });

  it('logs and exec go through the apiserver to the kubelet over verified TLS', async () => {
    await kubectl('run', 'sec', '--image=kubelab/busybox', '--restart=Never', '--', 'sh', '-c', 'echo from-the-pod; sleep 3600');
    await waitFor(async () => ((await cluster.client.get('pods', 'sec', { namespace: 'default' })) as core.Pod).status?.phase === 'Running', { timeoutMs: 60_000 });
    await waitFor(async () => (await kubectl('logs', 'sec')).includes('from-the-pod'), { timeoutMs: 20_000 });
    expect((await kubectl('exec', 'sec', '--', 'echo', 'exec-ok')).trim()).toBe('exec-ok');
  });

  it("a kubelet's 10250 refuses callers without the apiserver's client certificate", async () => {
    const url = `https://${workerIp(cluster.lab.spec, 1)}:10250/containerLogs/default/sec/sec`;
    const admin = cluster.adminTls;
    expect((await get(url, { ca: admin?.ca })).status).toBe(401);
    const res = await get(url, { ca: admin?.ca, cert: admin?.cert, key: admin?.key });
    expect(res.status).toBe(403);
  });

  it('etcd refuses a TLS client without a client certificate (and plain HTTP)', async () => {
    const etcd = addressPlan(cluster.lab.spec).etcd;
    // From a pod: plain HTTP to etcd gets nothing useful back.
    const fromPod = await exec(cluster.lab.docker.getContainer((await cluster.lab.docker.listContainers({ filters: JSON.stringify({ label: ['io.kubelab.pod.name=sec', 'io.kubelab.container=sec'] }) }))[0]?.Id ?? ''), [
      'sh', '-c', `timeout 5 wget -q -O - http://${etcd}:2379/version; echo exit=$?`,
    ]);
    expect(fromPod.output).not.toContain('etcdserver');
    // From the host with the CA but no client certificate: the handshake is refused.
    const outcome = await new Promise<string>((resolve) => {
      const s = tlsConnect({ host: etcd, port: 2379, ca: cluster.adminTls?.ca, servername: 'localhost', ALPNProtocols: ['h2'] }, () => {
        s.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
      });
      s.on('error', (err) => resolve(`error: ${err.message}`));
      s.on('close', () => resolve('closed'));
      s.setTimeout(5000, () => {
        s.destroy();
        resolve('timeout');
      });
    });
    expect(outcome).toMatch(/error|closed/);
  });

  it('a node added at runtime gets its own certificates and joins', async () => {
    const name = await cluster.addNode();
    expect(name).toBe('worker-2');
    expect(await kubectl('get', 'node', name, '-o', 'name')).toContain(`node/${name}`);
  }, 300_000);
});
