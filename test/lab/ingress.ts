/**
 * Ingress through a real nginx on the shared lab cluster (test/lab.test.ts: the ingress controller
 * published on free host ports), in a namespace of its own that it removes: host and path routing from the host and from a pod, `kubectl get
 * ingress`, TLS from a kubernetes.io/tls Secret, bad Ingresses and Secrets that cost only themselves, a
 * 1,000-request run through the Ingress during a rolling update, and an HPA that scales a Deployment on
 * the CPU that load through the Ingress causes.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { apps, core, networking } from '../../api/types.js';
import { formatCounts, runLoad } from '../../cli/loadgen.js';
import type { TestCluster } from '../cluster/index.js';
import { waitFor } from '../support/wait.js';

const KUBECTL = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33';
const NS = 'ingress-test';
const IMAGE = process.env.KUBELAB_IMAGE ?? 'kubelab/kubelab:latest';

let cluster: TestCluster;
let tmp: string;

function kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(KUBECTL, [`--kubeconfig=${cluster.kubeconfigPath}`, `--cache-dir=${join(tmp, 'cache')}`, `--namespace=${NS}`, ...args], { timeout: 60_000, env: { ...process.env, HOME: tmp } }, (err, stdout, stderr) =>
      resolve({ code: err ? 1 : 0, stdout, stderr }),
    );
  });
}

interface Reply {
  status: number;
  body: string;
  cert?: { subject: string };
}

/** GET through the ingress from the host; `host` is the Host header (and TLS server name). */
function get(path: string, host: string, opts: { tls?: boolean; ca?: string } = {}): Promise<Reply> {
  const ing = cluster.ingress;
  if (!ing) throw new Error('cluster has no ingress');
  return new Promise((resolve, reject) => {
    const mod = opts.tls ? https : http;
    const req = mod.request(
      {
        host: '127.0.0.1',
        port: opts.tls ? ing.httpsPort : ing.httpPort,
        path,
        headers: { host, connection: 'close' },
        agent: false,
        timeout: 10_000,
        ...(opts.tls ? { servername: host, ca: opts.ca, rejectUnauthorized: opts.ca !== undefined, checkServerIdentity: () => undefined } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          const sock = res.socket as import('node:tls').TLSSocket;
          const peer = opts.tls ? sock.getPeerCertificate?.() : undefined;
          resolve({ status: res.statusCode ?? 0, body, ...(peer ? { cert: { subject: peer.subject?.CN ?? '' } } : {}) });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * A Deployment of a tiny node web server (the component image, present locally) answering
 * `<text> <hostname> <path>` on every path, with a readiness probe, and its Service. `/burn` spends
 * ~20 ms of CPU first (for the HPA test).
 */
const SERVER = `const os = require('os'); require('http').createServer((q, s) => { if (q.url.startsWith('/burn')) { const t = Date.now(); while (Date.now() - t < 20); } s.end(process.env.TEXT + ' ' + os.hostname() + ' ' + q.url + '\\n'); }).listen(8080)`;

async function web(name: string, text: string, replicas = 1, extra: { cpuRequest?: string } = {}): Promise<void> {
  const dep: apps.Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 2,
          containers: [
            {
              name: 'web',
              image: IMAGE,
              imagePullPolicy: 'IfNotPresent',
              command: ['node', '-e', SERVER],
              env: [{ name: 'TEXT', value: text }],
              ports: [{ name: 'http', containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
              ...(extra.cpuRequest ? { resources: { requests: { cpu: extra.cpuRequest } } } : {}),
            },
          ],
        },
      },
    },
  };
  const svc: core.Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS },
    spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  };
  await cluster.client.create('deployments', dep);
  await cluster.client.create('services', svc);
}

async function available(name: string, n: number): Promise<void> {
  await waitFor(
    async () => {
      const d = await cluster.client.get('deployments', name, { namespace: NS });
      return (d.status?.availableReplicas ?? 0) >= n && (d.status?.updatedReplicas ?? 0) >= n;
    },
    { timeoutMs: 90_000, intervalMs: 250, what: `deployment ${name} to have ${n} available replicas` },
  );
}

function ingress(name: string, spec: networking.IngressSpec, annotations?: Record<string, string>): networking.Ingress {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name, namespace: NS, ...(annotations ? { annotations } : {}) }, spec };
}

const svcBackend = (name: string, port: number | string = 80): networking.IngressBackend => ({
  service: { name, port: typeof port === 'number' ? { number: port } : { name: port } },
});

async function warnings(ingressName: string): Promise<string[]> {
  const evs = await cluster.client.list('events', { namespace: NS });
  return evs.items.filter((e) => e.involvedObject?.kind === 'Ingress' && e.involvedObject.name === ingressName && e.type === 'Warning').map((e) => `${e.reason}: ${e.message}`);
}

export function ingressSuite(lab: () => TestCluster): void {
  describe('Ingress and HPA in namespace ingress-test', () => {
    beforeAll(async () => {
      cluster = lab();
      tmp = mkdtempSync(join(tmpdir(), 'kubelab-ingress-test-'));
      await cluster.client.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
      await Promise.all([web('apple', 'apple', 1), web('banana', 'banana', 1)]);
      await Promise.all([available('apple', 1), available('banana', 1)]);
    }, 240_000);

    describe('Ingress through nginx', { timeout: 300_000 }, () => {
      it('routes by host and path from the host, and kubectl shows class, hosts, address and ports', async () => {
        await cluster.client.create(
          'ingresses',
          ingress('fruit', {
            rules: [
              {
                host: 'fruit.example',
                http: {
                  paths: [
                    { path: '/apple', pathType: 'Prefix', backend: svcBackend('apple') },
                    { path: '/banana', pathType: 'Exact', backend: svcBackend('banana', 'http') },
                  ],
                },
              },
              { host: 'banana.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: svcBackend('banana') }] } },
            ],
          }),
        );
        // The default IngressClass (the controller's `nginx`) was filled in at admission.
        const stored = await cluster.client.get('ingresses', 'fruit', { namespace: NS });
        expect(stored.spec?.ingressClassName).toBe('nginx');
        await waitFor(async () => (await get('/apple', 'fruit.example')).body.startsWith('apple'), { timeoutMs: 10_000, intervalMs: 100, what: 'fruit.example/apple to reach apple' });
        // nginx's workers take a reload one by one: an old worker can still answer with the previous configuration
        // (ciU: /apple/ got the default backend right after /apple reached apple). Every route as configured, in
        // three passes in a row, before the checks below.
        let passes = 0;
        await waitFor(
          async () => {
            const [a, b, c] = await Promise.all([get('/apple/', 'fruit.example'), get('/banana', 'fruit.example'), get('/', 'banana.example')]);
            passes = a.body.startsWith('apple') && b.body.startsWith('banana') && c.body.startsWith('banana') ? passes + 1 : 0;
            return passes >= 3;
          },
          { timeoutMs: 20_000, intervalMs: 100, what: "every fruit.example and banana.example route to answer as configured" },
        );
        // Prefix matches path elements: /apple and /apple/x, not /applesauce.
        expect((await get('/apple/', 'fruit.example')).body).toMatch(/^apple /);
        expect((await get('/applesauce', 'fruit.example')).status).toBe(404);
        // Exact: only /banana.
        expect((await get('/banana', 'fruit.example')).body).toMatch(/^banana /);
        expect((await get('/banana/split', 'fruit.example')).status).toBe(404);
        // Another host, another Service; an unknown host gets the default backend.
        // The backend sees the whole path (no rewrite), as with ingress-nginx.
        expect((await get('/apple/pie', 'fruit.example')).body).toMatch(/^apple \S+ \/apple\/pie$/m);
        expect((await get('/anything', 'banana.example')).body).toMatch(/^banana \S+ \/anything$/m);
        const unknown = await get('/apple', 'nobody.example');
        expect(unknown.status).toBe(404);
        expect(unknown.body).toContain('default backend');

        // status.loadBalancer: the controller's address, as `kubectl get ingress` shows it.
        const address = cluster.ingress?.address ?? '';
        await waitFor(async () => (await cluster.client.get('ingresses', 'fruit', { namespace: NS })).status?.loadBalancer?.ingress?.[0]?.ip === address, {
          timeoutMs: 10_000,
          what: 'status.loadBalancer of ingress fruit',
        });
        const table = await kubectl(['get', 'ingress', 'fruit']);
        expect(table.stderr).toBe('');
        expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+CLASS\s+HOSTS\s+ADDRESS\s+PORTS\s+AGE$/);
        expect(table.stdout).toMatch(new RegExp(`^fruit\\s+nginx\\s+fruit\\.example,banana\\.example\\s+${address.replace(/\./g, '\\.')}\\s+80\\s+\\d+s`, 'm'));
      });

      it('is reached from a pod at the controller\'s cluster address', async () => {
        await cluster.client.create('pods', {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'curl', namespace: NS },
          spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'sh', image: 'kubelab/busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] },
        });
        await waitFor(async () => (await cluster.client.get('pods', 'curl', { namespace: NS })).status?.phase === 'Running', { timeoutMs: 60_000, what: 'pod curl to run' });
        const address = cluster.ingress?.address ?? '';
        const r = await kubectl(['exec', 'curl', '--', 'sh', '-c', `timeout 5 wget -q -O- --header 'Host: fruit.example' http://${address}/apple; timeout 5 wget -q -O- --header 'Host: banana.example' http://${address}/`]);
        expect(r.stderr).toBe('');
        expect(r.stdout).toMatch(/^apple apple-\S+ \/apple\nbanana banana-\S+ \/\n$/);
      });

      it('terminates TLS with the certificate of a kubernetes.io/tls Secret; a garbage Secret costs only its host', async () => {
        execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=secure.example', '-addext', 'subjectAltName=DNS:secure.example', '-keyout', join(tmp, 'tls.key'), '-out', join(tmp, 'tls.crt')], { stdio: 'ignore' });
        const crt = readFileSync(join(tmp, 'tls.crt'), 'utf8');
        const key = readFileSync(join(tmp, 'tls.key'), 'utf8');
        const r = await kubectl(['create', 'secret', 'tls', 'secure-tls', `--cert=${join(tmp, 'tls.crt')}`, `--key=${join(tmp, 'tls.key')}`]);
        expect(r.stderr).toBe('');
        await cluster.client.create('secrets', {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'garbage-tls', namespace: NS },
          type: 'kubernetes.io/tls',
          data: { 'tls.crt': Buffer.from('-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n').toString('base64'), 'tls.key': Buffer.from(key).toString('base64') },
        });
        await cluster.client.create(
          'ingresses',
          ingress('secure', {
            tls: [{ hosts: ['secure.example'], secretName: 'secure-tls' }],
            rules: [{ host: 'secure.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: svcBackend('apple') }] } }],
          }),
        );
        await cluster.client.create(
          'ingresses',
          ingress('broken-tls', {
            tls: [{ hosts: ['broken.example'], secretName: 'garbage-tls' }],
            rules: [{ host: 'broken.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: svcBackend('banana') }] } }],
          }),
        );
        const ok = await waitFor(async () => {
          const res = await get('/', 'secure.example', { tls: true, ca: crt }).catch(() => undefined);
          return res?.status === 200 ? res : undefined;
        }, { timeoutMs: 10_000, intervalMs: 100, what: 'https://secure.example/ with the Secret\'s certificate' });
        expect(ok.cert?.subject).toBe('secure.example');
        expect(ok.body).toMatch(/^apple /);
        // The garbage Secret: a Warning event naming the field, its host served with the default certificate.
        await waitFor(async () => (await warnings('broken-tls')).some((w) => w.includes('data[tls.crt] is not a PEM certificate')), { timeoutMs: 10_000, what: 'a Warning event on broken-tls' });
        // The event comes from the controller's model, before nginx has reloaded with the host (ciS: 404 at once).
        const broken = await waitFor(async () => {
          const res = await get('/', 'broken.example', { tls: true }).catch(() => undefined);
          return res?.status === 200 ? res : undefined;
        }, { timeoutMs: 10_000, intervalMs: 100, what: 'https://broken.example/ with the default certificate' });
        expect(broken.cert?.subject).toBe('Kubernetes Ingress Controller Fake Certificate');
        expect(broken.body).toMatch(/^banana /);
        // The kubectl table says 80, 443 for an Ingress with TLS.
        expect((await kubectl(['get', 'ingress', 'secure', '--no-headers'])).stdout).toMatch(/\s80, 443\s/);
      });

      it('refuses a bad Ingress with a Warning event and keeps serving the others', async () => {
        // Accepted by the API (ImplementationSpecific allows any absolute path), refused by the controller.
        await cluster.client.create(
          'ingresses',
          ingress('evil', { rules: [{ host: 'evil.example', http: { paths: [{ path: '/x;} server { listen 81; location /', pathType: 'ImplementationSpecific', backend: svcBackend('apple') }] } }] }),
        );
        // A backend Service that does not exist: that path answers 503, the rest of the Ingress works.
        await cluster.client.create(
          'ingresses',
          ingress('ghost', {
            rules: [
              {
                host: 'ghost.example',
                http: {
                  paths: [
                    { path: '/gone', pathType: 'Prefix', backend: svcBackend('no-such-service') },
                    { path: '/', pathType: 'Prefix', backend: svcBackend('banana') },
                  ],
                },
              },
            ],
          }),
        );
        await waitFor(async () => (await warnings('evil')).some((w) => w.startsWith('Rejected: ') && w.includes('spec.rules[0].http.paths[0].path')), { timeoutMs: 10_000, what: 'a Rejected event on evil' });
        await waitFor(async () => (await warnings('ghost')).some((w) => w.includes(`service "${NS}/no-such-service" not found`)), { timeoutMs: 10_000, what: 'a Warning event on ghost' });
        // The events come from the model; nginx serves the new config once it passed `nginx -t` and reloaded.
        await waitFor(async () => (await get('/gone', 'ghost.example')).status === 503, { timeoutMs: 10_000, intervalMs: 100, what: 'ghost.example/gone to answer 503' });
        expect((await get('/', 'ghost.example')).body).toMatch(/^banana /);
        expect((await get('/x', 'evil.example')).body).toContain('default backend');
        expect((await get('/apple', 'fruit.example')).body).toMatch(/^apple /);
        // The API itself refuses what Kubernetes refuses, naming the field.
        const bad = await kubectl(['create', 'ingress', 'badpath', '--rule=bad.example/a//b=apple:80']);
        expect(bad.code).toBe(1);
      });

      it('follows a rolling update of the backend: at most one 5xx in 1,000 requests', async () => {
        await web('roll', 'roll', 3);
        await available('roll', 3);
        await cluster.client.create('ingresses', ingress('roll', { rules: [{ host: 'roll.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: svcBackend('roll') }] } }] }));
        await waitFor(async () => (await get('/', 'roll.example')).body.startsWith('roll'), { timeoutMs: 10_000, intervalMs: 100, what: 'roll.example to answer' });
        const before = new Set((await cluster.client.list('pods', { namespace: NS, labelSelector: 'app=roll' })).items.map((p) => p.metadata?.name));
        // At least 1,000 requests (100/s, a fresh connection each), running from before the restart until the
        // rollout is complete (at 50/s the load outlasted the rollout by ~10 s).
        const stop = new AbortController();
        let sent = 0;
        const load = runLoad({
          url: `${cluster.ingress?.httpUrl ?? ''}/`,
          host: 'roll.example',
          rps: 100,
          durationMs: 180_000,
          keepAlive: false,
          concurrency: 32,
          signal: stop.signal,
          progressMs: 100,
          onProgress: (r) => (sent = r.sent),
        });
        let result: Awaited<typeof load>;
        try {
          const restart = await kubectl(['rollout', 'restart', 'deployment/roll']);
          expect(restart.stderr).toBe('');
          const status = await kubectl(['rollout', 'status', 'deployment/roll', '--timeout=120s']);
          expect(status.code, status.stderr).toBe(0);
          await waitFor(() => sent >= 1000, { timeoutMs: 60_000, intervalMs: 100, what: '1,000 requests sent' });
        } finally {
          stop.abort();
          result = await load;
        }
        // `rollout status` ends when the new pods are available; the old ones may still be terminating then
        // (their grace period runs), as in Kubernetes. Every one of them goes.
        await waitFor(
          async () => !(await cluster.client.list('pods', { namespace: NS, labelSelector: 'app=roll' })).items.some((p) => before.has(p.metadata?.name)),
          { timeoutMs: 60_000, intervalMs: 200, what: 'the pods from before the restart to be gone' },
        );
        const fivexx = Object.entries(result.statuses).filter(([code]) => code.startsWith('5')).reduce((n, [, v]) => n + v, 0);
        const failed = Object.values(result.errors).reduce((n, v) => n + v, 0);
        console.log(`rolling update through the ingress: ${result.done} requests in ${(result.elapsedMs / 1000).toFixed(1)} s: ${formatCounts(result)}; p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms`);
        expect(result.done).toBeGreaterThanOrEqual(1000);
        expect(fivexx + failed).toBeLessThanOrEqual(1);
      });
    });

    describe('HorizontalPodAutoscaler on load through the Ingress', () => {
      it('scales a Deployment from 1 to at least 3 under load at 50 % CPU, and back to 1 after it', async () => {
        await web('burn', 'burn', 1, { cpuRequest: '50m' });
        await available('burn', 1);
        await cluster.client.create('ingresses', ingress('burn', { rules: [{ host: 'burn.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: svcBackend('burn') }] } }] }));
        const auto = await kubectl(['autoscale', 'deployment', 'burn', '--cpu-percent=50', '--min=1', '--max=4']);
        expect(auto.stderr).toBe('');
        // No scale-down window of its own (behavior, as a user tunes it) instead of the preset's 30 s: the HPA
        // scales down on the first sync whose metrics no longer need the replicas.
        const tuned = await kubectl(['patch', 'hpa', 'burn', '--type=merge', '-p', JSON.stringify({ spec: { behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } } })]);
        expect(tuned.code, tuned.stderr).toBe(0);
        await waitFor(async () => (await get('/burn', 'burn.example')).body.startsWith('burn '), { timeoutMs: 10_000, intervalMs: 200, what: 'the burn path through the ingress' });
        const stop = new AbortController();
        const load = runLoad({ url: `${cluster.ingress?.httpUrl ?? ''}/burn`, host: 'burn.example', rps: 20, durationMs: 180_000, concurrency: 16, signal: stop.signal });
        try {
          await waitFor(async () => ((await cluster.client.get('deployments', 'burn', { namespace: NS })).spec?.replicas ?? 0) >= 3, {
            timeoutMs: 150_000,
            intervalMs: 1000,
            what: 'the HPA to scale burn to ≥ 3 replicas',
          });
        } finally {
          stop.abort();
          await load;
        }
        // Once the load's CPU is out of the metrics: one step to minReplicas (no scale-down rate policy).
        await waitFor(async () => (await cluster.client.get('deployments', 'burn', { namespace: NS })).spec?.replicas === 1, {
          timeoutMs: 150_000,
          intervalMs: 1000,
          what: 'the HPA to scale burn back to 1',
        });
        // The table's REPLICAS is the HPA's status.currentReplicas, written on its next sync.
        const row = /^burn\s+Deployment\/burn\s+cpu: \d+%\/50%\s+1\s+4\s+1\s/;
        let hpa = '';
        await waitFor(async () => row.test((hpa = (await kubectl(['get', 'hpa', 'burn', '--no-headers'])).stdout)), { timeoutMs: 30_000, intervalMs: 1000, what: 'kubectl get hpa to show 1 replica' }).catch(() => {
          throw new Error(`kubectl get hpa burn: ${hpa}`);
        });
      }, 400_000);
    });

    // After both: the namespace and everything in it go, so the next suite finds the lab as it was; the ingress
    // controller stops (no later suite uses it, and on 2 cores its reloads slow every test).
    afterAll(async () => {
      if (tmp) rmSync(tmp, { recursive: true, force: true });
      if (!cluster) return;
      await cluster.stopComponent('ingress');
      await cluster.client.delete('namespaces', NS).catch(() => undefined);
      await waitFor(async () => !(await cluster.client.list('namespaces')).items.some((n) => n.metadata?.name === NS), { timeoutMs: 120_000, what: `namespace ${NS} to be removed` });
    }, 180_000);
  });
}
