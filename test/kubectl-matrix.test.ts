/**
 * Every kubectl from 1.27 to 1.33 (issue 16): the same script of verbs against one secure cluster (issue 15:
 * TLS, the admin's client certificate, Node,RBAC, admission) — an apiserver, a scheduler and a
 * controller-manager in this process with their own certificates, one kubelet running real Docker containers.
 * Versions differ in how they talk: protobuf or JSON, SPDY (≤ 1.29/1.30) or WebSocket streams,
 * WatchList, aggregated discovery. Each version gets its own namespace; a version whose binary is not
 * installed is skipped with its name in the report.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nullLogger } from '../component-base/log.js';
import { compileControllerManagerConfig, startControllerManager } from '../controller-manager/index.js';
import { compileSchedulerConfig, startScheduler, type RunningScheduler } from '../scheduler/index.js';
import { Kubectl, stopKubectl as stop, type RunOptions } from './support/kubectl.js';
import { startNodeLab, type NodeLab } from './support/nodelab.js';
import { testPki } from './support/pki.js';
import { waitFor } from './support/wait.js';

const BIN = '/usr/lib/google-cloud-sdk/bin';
const VERSIONS = ['1.27', '1.28', '1.29', '1.30', '1.31', '1.32', '1.33'];

let lab: NodeLab;
let scheduler: RunningScheduler;
const ctl = new AbortController();
let cmDone: Promise<void> | undefined;
const kubectls: Kubectl[] = [];

beforeAll(async () => {
  // Secure, as every lab is: kubectl meets TLS, its admin certificate, Node,RBAC and admission; the kubelet and
  // the controllers use their own certificates.
  lab = await startNodeLab({ cluster: `kmx-${process.pid}`, node: 'matrix-node', namespace: 'kmx', secure: true });
  const pki = await testPki();
  scheduler = await startScheduler(compileSchedulerConfig({ apiserver: lab.cp.address, adminPort: 0, bindAddress: '127.0.0.1', leaderElect: false, tls: pki.client('scheduler') }), ctl.signal, { logger: nullLogger() });
  cmDone = startControllerManager(compileControllerManagerConfig({ apiserver: lab.cp.address, adminPort: 0, bindAddress: '127.0.0.1', timing: 'lab', leaderElect: false, tls: pki.client('controller-manager') }), ctl.signal, { logger: nullLogger() });
}, 120_000);

afterAll(async () => {
  for (const k of kubectls) k.killAll();
  ctl.abort();
  await cmDone?.catch(() => undefined);
  await scheduler?.done.catch(() => undefined);
  await lab?.stop();
}, 120_000);

function kubectlFor(version: string, ns: string) {
  const bin = join(BIN, `kubectl.${version}`);
  const home = join(lab.kc.dir, version);
  mkdirSync(home, { recursive: true });
  const k = new Kubectl({ bin, kubeconfig: lab.kc.path, home, namespace: ns, timeoutMs: 60_000 });
  kubectls.push(k);
  const ok = async (a: string[], opts: RunOptions = {}): Promise<string> => {
    const r = await k.run(a, opts);
    expect(r.code, `kubectl ${version} ${a.join(' ')}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };
  return { bin, run: (a: string[], opts: RunOptions = {}) => k.run(a, opts), ok, background: (a: string[]) => k.background(a) };
}

/** A kustomization: a Deployment of one busybox web server, a Service and a generated ConfigMap. */
function kustomizeDir(root: string, ns: string): string {
  const dir = join(root, 'kustomize');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    `namespace: ${ns}\nresources:\n  - web.yaml\nconfigMapGenerator:\n  - name: web-config\n    literals:\n      - greeting=hello\ncommonLabels:\n  app: web\n`,
  );
  writeFileSync(
    join(dir, 'web.yaml'),
    `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      nodeName: ${lab.node}
      terminationGracePeriodSeconds: 1
      containers:
        - name: httpd
          image: kubelab/busybox:latest
          imagePullPolicy: Never
          command: ["sh", "-c", "echo started; echo hi > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"]
          ports: [{containerPort: 8080}]
          envFrom: [{configMapRef: {name: web-config}}]
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`,
  );
  return dir;
}

describe('kubectl version matrix over TLS: the same verbs with every kubectl from 1.27 to 1.33', () => {
  for (const version of VERSIONS) {
    it.skipIf(!existsSync(join(BIN, `kubectl.${version}`)))(
      `kubectl ${version}: version, api-resources, apply -k, rollout/wait, get, logs, exec, cp, port-forward, patch, diff, auth can-i/whoami, events, get --watch-only`,
      { timeout: 240_000 },
      async () => {
        const ns = `kmx-${version.replace('.', '-')}`;
        await lab.cp.client.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
        const k = kubectlFor(version, ns);
        const root = join(lab.kc.dir, version);

        const v = JSON.parse(await k.ok(['version', '-o', 'json'])) as { serverVersion?: { gitVersion?: string } };
        expect(v.serverVersion?.gitVersion).toMatch(/^v1\.\d+/);
        expect(await k.ok(['api-resources'])).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);

        const applied = await k.ok(['apply', '-k', kustomizeDir(root, ns)]);
        expect(applied).toMatch(/deployment.apps\/web created/);
        expect(applied).toMatch(/configmap\/web-config-[a-z0-9]+ created/);
        expect(await k.ok(['rollout', 'status', 'deployment/web', '--timeout=90s'], { timeoutMs: 100_000 })).toContain('successfully rolled out');
        await k.ok(['wait', '--for=jsonpath={.status.readyReplicas}=1', 'deployment/web', '--timeout=60s'], { timeoutMs: 70_000 });

        const pod = (await k.ok(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
        expect(pod).toMatch(/^web-/);
        expect(await k.ok(['logs', pod])).toContain('started');
        expect(await k.ok(['exec', pod, '--', 'sh', '-c', 'echo $greeting'])).toBe('hello\n');
        const copied = join(root, 'index.html');
        await k.ok(['cp', `${pod}:/tmp/index.html`, copied]);
        expect(readFileSync(copied, 'utf8')).toBe('hi\n');

        const pf = k.background(['port-forward', `pod/${pod}`, ':8080']);
        try {
          const port = await waitFor(() => Number(/127\.0\.0\.1:(\d+) ->/.exec(pf.out())?.[1]) || undefined, { what: `kubectl ${version} port-forward`, timeoutMs: 30_000 }).catch((err: unknown) => {
            throw new Error(`${(err as Error).message}; kubectl printed: ${pf.out()}`);
          });
          const res = await fetch(`http://127.0.0.1:${port}/index.html`);
          expect(await res.text()).toBe('hi\n');
        } finally {
          await stop(pf.child);
        }

        expect(await k.ok(['patch', 'deployment', 'web', '--type=merge', '-p', '{"metadata":{"annotations":{"matrix":"yes"}}}'])).toContain('patched');
        const manifest = join(root, 'cm.yaml');
        writeFileSync(manifest, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: diffme\n  namespace: ${ns}\ndata:\n  a: "1"\n`);
        await k.ok(['apply', '-f', manifest]);
        writeFileSync(manifest, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: diffme\n  namespace: ${ns}\ndata:\n  a: "2"\n`);
        const diff = await k.run(['diff', '-f', manifest]);
        expect(diff.code, diff.stderr).toBe(1); // 1 = differences found
        expect(diff.stdout).toMatch(/^-\s+a: "1"$/m);
        expect(diff.stdout).toMatch(/^\+\s+a: "2"$/m);

        expect((await k.ok(['auth', 'can-i', 'create', 'pods'])).trim()).toBe('yes');
        // Over TLS, as the admin of the written kubeconfig's certificate.
        expect(await k.ok(['auth', 'whoami'])).toMatch(/Username\s+kubernetes-admin/);
        expect(await k.ok(['events', '--for', `pod/${pod}`])).toMatch(/Started|Created|Scheduled/);

        const watch = k.background(['get', 'configmaps', '--watch-only', '-o', 'json']);
        try {
          await waitFor(
            async () => {
              await k.run(['create', 'configmap', `w-${Date.now()}`, '--from-literal=x=y']);
              return /"kind": "ConfigMap"/.test(watch.out());
            },
            { what: `kubectl ${version} get --watch-only to print a created ConfigMap`, timeoutMs: 30_000, intervalMs: 1000 },
          );
        } finally {
          await stop(watch.child);
        }

        await k.ok(['delete', 'namespace', ns, '--wait=false']);
      },
    );
  }
});
