/**
 * TLS and authentication as a user meets them, on an in-process apiserver serving the test PKI:
 * no credentials → 401 on resources and 200 on /healthz and /version; a client certificate of another CA
 * is refused (REST and gRPC); components are who their certificates say; `kubectl auth whoami` names the
 * admin; a kubelet's 10250 refuses everyone but the apiserver, and the apiserver verifies the kubelet when
 * it proxies logs; junk and stalled handshakes cost only their own connection.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../client/api.js';
import { ApiError } from '../api/errors.js';
import { nullLogger } from '../component-base/log.js';
import { ensurePki, labPkiPlan } from '../client/pki/pki.js';
import { clientTlsFromPkiDir, type ClientTls } from '../component-base/tls.js';
import { startKubeletServer, type KubeletServer } from '../kubelet/server.js';
import { testPki, type TestPki } from './support/pki.js';
import { startControlPlane, type TestControlPlane } from './support/apiserver.js';
import { secureKubeconfigYaml } from './support/kubeconfig.js';

const run = promisify(execFile);
let cp: TestControlPlane;
let pki: TestPki;
let foreignDir: string;
let foreign: ClientTls;
let kubelet: KubeletServer;
let kubeconfigDir: string;

function get(url: string, opts: RequestOptions = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ...opts, method: opts.method ?? 'GET' }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  cp = await startControlPlane({ secure: true });
  pki = await testPki();
  // A second CA with a certificate that claims to be the admin.
  foreignDir = mkdtempSync(join(tmpdir(), 'kubelab-foreign-pki-'));
  await ensurePki(foreignDir, labPkiPlan({ apiserverHosts: [], etcdHosts: [], nodes: [] }));
  foreign = clientTlsFromPkiDir(foreignDir, 'admin');
  await pki.node('tls-node');
  const logLines = 'hello from a verified kubelet\n';
  kubelet = await startKubeletServer({
    port: 0,
    host: '127.0.0.1',
    tls: pki.server('nodes/tls-node/kubelet-server'),
    runtime: {
      kind: 'hollow',
      list: () =>
        Promise.resolve([
          { podUid: 'u', namespace: 'default', podName: 'p', attempt: 0, createdAt: 1, image: 'x', imageId: 'x', id: 'c1', name: 'main', state: 'running' as const },
        ]),
      execInteractive: () => Promise.reject(new Error('no exec here')),
      logs: () => Promise.resolve(Readable.from([Buffer.from(logLines)])),
      attach: () => Promise.reject(new Error('no attach here')),
    },
    lookupPod: () => undefined,
    summary: () => Promise.resolve({ node: { nodeName: 'tls-node' }, pods: [] }),
    log: nullLogger(),
  });
  kubeconfigDir = mkdtempSync(join(tmpdir(), 'kubelab-kubeconfig-'));
  writeFileSync(join(kubeconfigDir, 'config'), secureKubeconfigYaml(cp.restUrl, pki.client('admin')), { mode: 0o600 });
}, 60_000);

afterAll(async () => {
  await kubelet?.close();
  await cp?.stop();
  rmSync(foreignDir, { recursive: true, force: true });
  rmSync(kubeconfigDir, { recursive: true, force: true });
});

describe('REST without credentials', () => {
  it('answers /healthz and /version (system:public-info-viewer) and 401 on resources and discovery', async () => {
    const ca = pki.client('admin').ca;
    expect((await get(`${cp.restUrl}/healthz`, { ca })).status).toBe(200);
    const version = await get(`${cp.restUrl}/version`, { ca });
    expect(version.status).toBe(200);
    expect(JSON.parse(version.body)).toHaveProperty('gitVersion');
    const secrets = await get(`${cp.restUrl}/api/v1/namespaces/default/secrets`, { ca });
    expect(secrets.status).toBe(401);
    expect(JSON.parse(secrets.body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    expect((await get(`${cp.restUrl}/api`, { ca })).status).toBe(401);
  });

  it('serves no plain HTTP on the TLS port', async () => {
    const port = Number(new URL(cp.restUrl).port);
    const answer = await new Promise<string>((resolve) => {
      const s = netConnect(port, '127.0.0.1', () => s.write('GET /api/v1/secrets HTTP/1.1\r\nHost: x\r\n\r\n'));
      let got = '';
      s.on('data', (b: Buffer) => (got += b.toString('latin1')));
      s.on('close', () => resolve(got));
      s.on('error', () => resolve(got));
    });
    expect(answer).not.toContain('HTTP/1.1 200');
  });
});

describe('client certificates', () => {
  it('a certificate of another CA is refused with 401, even one that names the admin', async () => {
    const res = await get(`${cp.restUrl}/api/v1/namespaces`, { ca: pki.client('admin').ca, cert: foreign.cert, key: foreign.key });
    expect(res.status).toBe(401);
    // …and /healthz too: bad credentials are never anonymous.
    expect((await get(`${cp.restUrl}/healthz`, { ca: pki.client('admin').ca, cert: foreign.cert, key: foreign.key })).status).toBe(401);
    const client = new ApiClient(cp.address, { tls: { ca: pki.client('admin').ca, cert: foreign.cert, key: foreign.key }, retries: 0, timeoutMs: 5000 });
    try {
      const err = await client.list('namespaces').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).reason).toBe('Unauthorized');
    } finally {
      client.close();
    }
  });

  it('gRPC without a client certificate is refused; with one the call is the certificate’s user', async () => {
    const anon = new ApiClient(cp.address, { tls: { ca: pki.client('admin').ca }, retries: 0, timeoutMs: 5000 });
    try {
      const err = await anon.list('pods').catch((e: unknown) => e);
      expect((err as ApiError).reason).toBe('Unauthorized');
    } finally {
      anon.close();
    }
    const scheduler = new ApiClient(cp.address, { tls: pki.client('scheduler'), retries: 0 });
    try {
      expect((await scheduler.list('nodes')).items).toBeDefined();
    } finally {
      scheduler.close();
    }
  });

  it('a plain-text gRPC client gets no answer from the TLS port', async () => {
    const plain = new ApiClient(cp.address, { retries: 0, timeoutMs: 3000 });
    try {
      await expect(plain.list('pods')).rejects.toBeInstanceOf(ApiError);
    } finally {
      plain.close();
    }
  });

  it('kubectl verifies the server with the kubeconfig CA and `auth whoami` names the admin', async () => {
    const env = { ...process.env, KUBECONFIG: join(kubeconfigDir, 'config'), KUBECACHEDIR: join(kubeconfigDir, 'cache') };
    const who = await run('kubectl', ['auth', 'whoami', '-o', 'json'], { env });
    const review = JSON.parse(who.stdout) as { status: { userInfo: { username: string; groups: string[] } } };
    expect(review.status.userInfo.username).toBe('kubernetes-admin');
    expect(review.status.userInfo.groups).toEqual(['system:masters', 'system:authenticated']);
    const ns = await run('kubectl', ['get', 'namespaces', '-o', 'name'], { env });
    expect(ns.stdout).toContain('namespace/default');
  }, 60_000);

  it('@kubernetes/client-node reads the kubeconfig: verified server, the admin certificate', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(join(kubeconfigDir, 'config'));
    const list = await kc.makeApiClient(CoreV1Api).listNamespace();
    expect(list.items.map((n) => n.metadata?.name)).toContain('default');
  });

  it("Python's kubernetes client reads the kubeconfig: verified server, the admin certificate", async () => {
    const script = [
      'import kubernetes, sys',
      `kubernetes.config.load_kube_config(config_file=${JSON.stringify(join(kubeconfigDir, 'config'))})`,
      'print(" ".join(n.metadata.name for n in kubernetes.client.CoreV1Api().list_namespace().items))',
    ].join('\n');
    const out = await run('/usr/bin/python3', ['-c', script], { timeout: 60_000 }).catch((err: { stderr?: string; message: string }) => ({ stdout: `FAILED ${err.stderr ?? err.message}` }));
    expect(out.stdout).toContain('default');
  }, 60_000);

  it('junk and stalled handshakes cost only their own connection', async () => {
    const port = Number(new URL(cp.restUrl).port);
    const stalled = netConnect(port, '127.0.0.1');
    const junk = netConnect(port, '127.0.0.1', () => junk.write(Buffer.alloc(4096, 0x16)));
    junk.on('error', () => undefined);
    stalled.on('error', () => undefined);
    try {
      const ok = await get(`${cp.restUrl}/api/v1/namespaces`, { ca: pki.client('admin').ca, cert: pki.client('admin').cert, key: pki.client('admin').key });
      expect(ok.status).toBe(200);
    } finally {
      stalled.destroy();
      junk.destroy();
    }
  });
});

describe('kubelet 10250', () => {
  const url = (): string => `https://127.0.0.1:${kubelet.port}`;

  it('refuses a caller without a client certificate (401) and any user but the apiserver (403)', async () => {
    const ca = pki.client('admin').ca;
    expect((await get(`${url()}/containerLogs/default/p/main`, { ca })).status).toBe(401);
    const foreignRes = await get(`${url()}/containerLogs/default/p/main`, { ca, cert: foreign.cert, key: foreign.key });
    expect(foreignRes.status).toBe(401);
    const admin = pki.client('admin');
    const res = await get(`${url()}/containerLogs/default/p/main`, { ca, cert: admin.cert, key: admin.key });
    expect(res.status).toBe(403);
    expect(res.body).toContain('Forbidden (user=kubernetes-admin');
    const cm = pki.client('controller-manager');
    expect((await get(`${url()}/stats/summary`, { ca, cert: cm.cert, key: cm.key })).status).toBe(200);
    expect((await get(`${url()}/containerLogs/default/p/main`, { ca, cert: cm.cert, key: cm.key })).status).toBe(403);
  });

  it('the apiserver proxies logs to it with its kubelet-client certificate, verifying the kubelet', async () => {
    await cp.client.create('nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'tls-node' },
      status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: kubelet.port } } },
    });
    await cp.client.create('pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'default' },
      spec: { nodeName: 'tls-node', containers: [{ name: 'main', image: 'x' }] },
    });
    const admin = pki.client('admin');
    const res = await get(`${cp.restUrl}/api/v1/namespaces/default/pods/p/log`, { ca: admin.ca, cert: admin.cert, key: admin.key });
    expect(res.status).toBe(200);
    expect(res.body).toBe('hello from a verified kubelet\n');
  });
});
