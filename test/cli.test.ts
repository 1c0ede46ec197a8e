/**
 * The `kubelab` CLI core verbs against a real apiserver + etcd, run in-process with captured output.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/main.js';
import { startControlPlane, type TestControlPlane } from './support/apiserver.js';

let cp: TestControlPlane;
const dir = mkdtempSync(join(tmpdir(), 'kubelab-cli-'));

beforeAll(async () => {
  cp = await startControlPlane();
});
afterAll(async () => {
  await cp?.stop();
});

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((c: string | Uint8Array) => ((out += String(c)), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => ((err += String(c)), true)) as typeof process.stderr.write;
  try {
    process.exitCode = undefined;
    const code = await runCli(['--server', cp.address, ...args]);
    return { code, out, err };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
    process.exitCode = undefined;
  }
}

const manifest = (replicas: number, extra = ''): string => `apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels:
    app: web${extra}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: kubelab/busybox:latest
        command: ["httpd", "-f", "-p", "8080"]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
data:
  mode: fast
`;

describe('kubelab CLI', () => {
  it('applies a multi-document manifest: created, then unchanged, then configured; removed fields go', async () => {
    const f = join(dir, 'app.yaml');
    writeFileSync(f, manifest(2, '\n    tier: front'));
    const first = await run('apply', '-f', f);
    expect(first.code).toBe(0);
    expect(first.out).toBe('namespace/shop created\ndeployment.apps/web created\nconfigmap/settings created\n');
    const again = await run('apply', '-f', f);
    expect(again.out).toBe('namespace/shop unchanged\ndeployment.apps/web unchanged\nconfigmap/settings unchanged\n');
    writeFileSync(f, manifest(3));
    const changed = await run('apply', '-f', f);
    expect(changed.out).toContain('deployment.apps/web configured');
    const d = await cp.client.get('deployments', 'web', { namespace: 'shop' });
    expect(d.spec?.replicas).toBe(3);
    expect(d.metadata?.labels).toEqual({ app: 'web' });
  });

  it('gets tables, yaml, json and names, and reports a missing object like kubectl', async () => {
    const table = await run('-n', 'shop', 'get', 'deploy');
    expect(table.out.split('\n')[0]).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/);
    expect(table.out).toMatch(/^web\s+0\/3/m);
    const yaml = await run('-n', 'shop', 'get', 'cm', 'settings', '-o', 'yaml');
    expect(yaml.out).toContain('mode: fast');
    const json = JSON.parse((await run('-n', 'shop', 'get', 'configmap/settings', '-o', 'json')).out) as { data: { mode: string } };
    expect(json.data.mode).toBe('fast');
    const names = await run('get', 'ns', '-o', 'name');
    expect(names.out.split('\n')).toContain('namespace/shop');
    const all = await run('get', 'cm', '-A');
    expect(all.out.split('\n')[0]).toMatch(/^NAMESPACE\s+NAME/);
    const missing = await run('-n', 'shop', 'get', 'pod', 'nope');
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('Error from server (NotFound): pods "nope" not found');
    const bad = await run('get', 'widgets');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain(`doesn't have a resource type "widgets"`);
  });

  it('filters by label selector', async () => {
    await cp.client.create('configmaps', { metadata: { name: 'a', namespace: 'shop', labels: { team: 'x' } } });
    await cp.client.create('configmaps', { metadata: { name: 'b', namespace: 'shop', labels: { team: 'y' } } });
    const out = (await run('-n', 'shop', 'get', 'cm', '-l', 'team in (x)', '-o', 'name')).out;
    expect(out.trim()).toBe('configmap/a');
  });

  it('describes an object with its events', async () => {
    const d = await cp.client.get('deployments', 'web', { namespace: 'shop' });
    await cp.client.create('events', {
      metadata: { name: 'web.1', namespace: 'shop' },
      involvedObject: { kind: 'Deployment', name: 'web', namespace: 'shop', uid: d.metadata?.uid, apiVersion: 'apps/v1' },
      reason: 'ScalingReplicaSet', message: 'Scaled up replica set web-abc to 3', type: 'Normal', count: 1,
      firstTimestamp: new Date().toISOString(), lastTimestamp: new Date().toISOString(), source: { component: 'deployment-controller' },
    });
    const out = (await run('-n', 'shop', 'describe', 'deployment', 'web')).out;
    expect(out).toContain('Name:               web');
    expect(out).toMatch(/Events:\n\s+Type\s+Reason\s+Age\s+From\s+Message/);
    expect(out).toContain('Scaled up replica set web-abc to 3');
    const events = (await run('-n', 'shop', 'events')).out;
    expect(events).toMatch(/Normal\s+ScalingReplicaSet\s+deployment\/web\s+Scaled up/);
  });

  it('shows a Service with its ClusterIP and endpoints in get and describe', async () => {
    const svc = await cp.client.create('services', { metadata: { name: 'api', namespace: 'shop' }, spec: { selector: { app: 'api' }, ports: [{ port: 80, targetPort: 8080 }] } });
    await cp.client.create('endpoints', {
      metadata: { name: 'api', namespace: 'shop' },
      subsets: [{ addresses: [{ ip: '10.213.64.7' }, { ip: '10.213.64.9' }], ports: [{ port: 8080, protocol: 'TCP' }] }],
    });
    const get = (await run('-n', 'shop', 'get', 'svc', 'api')).out;
    expect(get).toMatch(new RegExp(`^api\\s+ClusterIP\\s+${svc.spec?.clusterIP?.replace(/\./g, '\\.')}\\s+<none>\\s+80/TCP`, 'm'));
    const out = (await run('-n', 'shop', 'describe', 'svc', 'api')).out;
    expect(out).toContain(`IP:                 ${svc.spec?.clusterIP}`);
    expect(out).toContain('Endpoints:          10.213.64.7:8080,10.213.64.9:8080');
  });

  it('prints the server reason for invalid input and stores nothing', async () => {
    const f = join(dir, 'bad.yaml');
    writeFileSync(f, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: Bad_Pod\n  namespace: shop\nspec:\n  containers:\n  - name: c\n');
    const res = await run('apply', '-f', f);
    expect(res.code).toBe(1);
    expect(res.err).toContain('metadata.name: Invalid value: "Bad_Pod"');
    expect(res.err).toContain('spec.containers[0].image: Required value');
    expect((await cp.client.list('pods', { namespace: 'shop' })).items).toHaveLength(0);
  });

  it('deletes by name and by selector, with cascade orphan accepted', async () => {
    const res = await run('-n', 'shop', 'delete', 'cm', '-l', 'team', '--cascade', 'orphan');
    expect(res.out).toBe('configmap/a deleted\nconfigmap/b deleted\n');
    const named = await run('-n', 'shop', 'delete', 'configmap', 'settings');
    expect(named.out).toBe('configmap/settings deleted\n');
    const gone = await run('-n', 'shop', 'delete', 'configmap', 'settings');
    expect(gone.code).toBe(1);
    expect(gone.err).toContain('NotFound');
  });

  it('scales while another writer changes the Deployment (no conflict, as kubectl scale), and honours --current-replicas', async () => {
    const f = join(dir, 'scale.yaml');
    writeFileSync(f, manifest(1));
    await run('apply', '-f', f);
    // Writers that bump the resourceVersion all along, as the controllers do with status.
    let writes = 0;
    const stop = new AbortController();
    const churn = (async () => {
      while (!stop.signal.aborted) {
        await cp.client.patch('deployments', 'web', { metadata: { annotations: { churn: String(writes++) } } }, { namespace: 'shop', type: 'merge' });
      }
    })();
    try {
      for (const n of [2, 3, 4]) {
        const r = await run('scale', 'deployment/web', '-n', 'shop', '--replicas', String(n));
        expect(r.err).toBe('');
        expect(r.code).toBe(0);
      }
    } finally {
      stop.abort();
      await churn;
    }
    expect(writes).toBeGreaterThan(0);
    expect((await cp.client.get('deployments', 'web', { namespace: 'shop' })).spec?.replicas).toBe(4);
    const refused = await run('scale', 'deployment/web', '-n', 'shop', '--replicas', '5', '--current-replicas', '2');
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('Expected replicas to be 2, was 4');
  });

  it('explains how to start the lab when no apiserver answers', async () => {
    let err = '';
    const ew = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((c: string | Uint8Array) => ((err += String(c)), true)) as typeof process.stderr.write;
    try {
      process.env.KUBELAB_CLI_TIMEOUT_MS = '1500';
      const code = await runCli(['--server', '127.0.0.1:1', 'get', 'pods']);
      expect(code).toBe(1);
    } finally {
      process.stderr.write = ew;
      delete process.env.KUBELAB_CLI_TIMEOUT_MS;
    }
    expect(err).toContain('npm run lab');
  });
});
