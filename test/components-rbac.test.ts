/**
 * The control plane's own components under the default authorization (Node,RBAC), in process and
 * without Docker: an apiserver serving the test PKI, the real scheduler, controller-manager, dns component
 * and dashboard with their own client certificates, and a kubelet (hollow runtime) with its node
 * certificate. A Deployment behind a Service runs, its Endpoints fill, kube-dns is registered, a
 * LoadBalancer gets its address, the dashboard shows the node, and a deleted namespace is emptied and
 * goes: every call those components make is allowed by their bootstrap roles, and their logs name no
 * authorization refusal. (kube-proxy and the ingress controller need iptables and nginx: their calls are
 * in apiserver/auth/bootstrap.test.ts, and they run in the Docker suites.)
 */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { isNotFound } from '../api/errors.js';
import type { core } from '../api/types.js';
import { compileControllerManagerConfig, startControllerManager } from '../controller-manager/index.js';
import { compileDashboardConfig, startDashboard, type RunningDashboard } from '../dashboard/index.js';
import { compileDnsConfig } from '../kube-proxy/dns/config.js';
import { startDns, type RunningDns } from '../kube-proxy/dns/component.js';
import { compileKubeletConfig } from '../kubelet/config.js';
import { startKubelet, type RunningKubelet } from '../kubelet/start.js';
import { compileSchedulerConfig } from '../scheduler/config.js';
import { startScheduler, type RunningScheduler } from '../scheduler/index.js';
import { startControlPlane, type TestControlPlane } from './support/apiserver.js';
import { testKubeletOptions } from './support/kubelet.js';
import { testPki } from './support/pki.js';
import { waitFor } from './support/wait.js';

const NODE = 'rbac-node';
let cp: TestControlPlane;
let kubelet: RunningKubelet;
let scheduler: RunningScheduler;
let cmDone: Promise<void>;
let dns: RunningDns;
let dashboard: RunningDashboard;
const stop = new AbortController();
/** Every log line of the components that names an authorization refusal (RBAC, Node, NodeRestriction) or a 401. */
const refusals: string[] = [];

/**
 * A logger that keeps the refusals of authentication and authorization: RBAC's `User "x" cannot …`,
 * NodeRestriction's `node "x" is not allowed to …`, Unauthorized. (Writes refused because a namespace is
 * terminating are Kubernetes' ordinary answer, not a missing permission.)
 */
function recordingLogger(component: string): Logger {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      const line = chunk.toString();
      if (/cannot (get|list|watch|create|update|patch|delete|deletecollection) |is not allowed to|can only |Unauthorized|UNAUTHENTICATED|PERMISSION_DENIED/.test(line)) refusals.push(`${component}: ${line.trim()}`);
      done();
    },
  });
  return pino({ level: 'debug' }, sink);
}

beforeAll(async () => {
  cp = await startControlPlane({ secure: true });
  const pki = await testPki();
  await pki.node(NODE);
  kubelet = await startKubelet(
    compileKubeletConfig(testKubeletOptions(cp.address, 'rbac-test', NODE, { runtime: 'hollow', tls: pki.client(`nodes/${NODE}/kubelet`), hollowStartDelayMs: 100 })),
    stop.signal,
    { logger: recordingLogger('kubelet') },
  );
  scheduler = await startScheduler(compileSchedulerConfig({ apiserver: cp.address, adminPort: 0, bindAddress: '127.0.0.1', timing: 'lab', tls: pki.client('scheduler') }), stop.signal, {
    logger: recordingLogger('scheduler'),
  });
  let leading = false;
  cmDone = startControllerManager(
    compileControllerManagerConfig({ apiserver: cp.address, adminPort: 0, bindAddress: '127.0.0.1', timing: 'lab', leaderElect: true, tls: pki.client('controller-manager') }),
    stop.signal,
    { logger: recordingLogger('controller-manager'), onLeading: (l) => (leading = l) },
  );
  await waitFor(() => leading && scheduler.isLeader(), { timeoutMs: 30_000, what: 'the scheduler and the controller-manager to lead' });
  dns = await startDns(
    compileDnsConfig({
      apiserver: cp.address,
      tls: pki.client('dns'),
      port: 0,
      bindAddress: '127.0.0.1',
      advertiseAddress: '127.0.0.1',
      serviceClusterIpRange: '10.96.0.0/16',
      loadBalancerIpRange: '10.97.32.0/24',
      upstreams: [],
      adminPort: 0,
    }),
    stop.signal,
    { logger: recordingLogger('dns') },
  );
  dashboard = await startDashboard(compileDashboardConfig({ apiserver: cp.address, port: 0, bindAddress: '127.0.0.1', tls: pki.client('dashboard'), permissionCheckIntervalMs: 500 }), stop.signal, { logger: recordingLogger('dashboard') });
}, 120_000);

afterAll(async () => {
  stop.abort();
  await Promise.allSettled([kubelet?.stop(), scheduler?.done, cmDone, dns?.stopped(), dashboard?.done]);
  await cp?.stop();
});

describe('components under Node,RBAC with their own certificates', () => {
  it('run a Deployment behind a Service, and empty and remove a deleted namespace', async () => {
    const ns = 'rbac-app';
    const c = cp.client;
    await c.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await c.create('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: ns }, stringData: { password: 'x' } } as never);
    const labels = { app: 'web' };
    await c.create('deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: ns },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [{ name: 'web', image: 'kubelab/busybox', ports: [{ containerPort: 80 }], env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } }] }],
          },
        },
      },
    });
    await c.create('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: ns }, spec: { selector: labels, ports: [{ port: 80 }] } });
    const pods = await waitFor(
      async () => {
        const items = (await c.list('pods', { namespace: ns, labelSelector: 'app=web' })).items as core.Pod[];
        return items.length === 2 && items.every((p) => p.spec?.nodeName === NODE && p.status?.phase === 'Running') ? items : undefined;
      },
      { timeoutMs: 60_000, what: 'two Running pods on the hollow node' },
    );
    // The ServiceAccount admission mounted the token volume in each.
    for (const p of pods) expect(p.spec?.volumes?.some((v) => v.name.startsWith('kube-api-access-'))).toBe(true);
    await waitFor(async () => ((await c.get('endpoints', 'web', { namespace: ns })) as core.Endpoints).subsets?.[0]?.addresses?.length === 2, {
      timeoutMs: 30_000,
      what: 'the Service endpoints to hold both pods',
    });
    const events = (await c.list('events', { namespace: ns })).items as core.Event[];
    expect(events.map((e) => e.reason)).toEqual(expect.arrayContaining(['ScalingReplicaSet', 'SuccessfulCreate', 'Scheduled']));
    expect(refusals).toEqual([]);

    // The dns component registers kube-system/kube-dns and hands a LoadBalancer its address.
    await waitFor(async () => ((await c.get('endpoints', 'kube-dns', { namespace: 'kube-system' }).catch(() => undefined)) as core.Endpoints | undefined)?.subsets?.[0]?.addresses?.[0]?.ip === '127.0.0.1', {
      timeoutMs: 30_000,
      what: 'kube-dns Endpoints',
    });
    await c.create('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'lb', namespace: ns }, spec: { type: 'LoadBalancer', selector: labels, ports: [{ port: 80 }] } });
    await waitFor(async () => ((await c.get('services', 'lb', { namespace: ns })) as core.Service).status?.loadBalancer?.ingress?.[0]?.ip?.startsWith('10.97.32.'), {
      timeoutMs: 30_000,
      what: 'the LoadBalancer ingress IP',
    });
    // The dashboard (read-only) shows the node and the pods.
    const ws = new WebSocket(`ws://127.0.0.1:${dashboard.port}/ws`);
    // A snapshot, then deltas (`set`) as its informers fill.
    const seen: { t?: string; views?: { id?: string }[]; set?: { id?: string }[] }[] = [];
    ws.on('message', (d: Buffer) => seen.push(JSON.parse(d.toString()) as (typeof seen)[number]));
    await waitFor(() => seen.some((m) => [...(m.views ?? []), ...(m.set ?? [])].some((v) => v.id === `node/${NODE}`)), { timeoutMs: 30_000, what: 'the dashboard to show the node' });
    // …and the controller-manager's published timing (its countdowns), read through the one ConfigMap it may read.
    await waitFor(() => seen.some((m) => [...(m.views ?? []), ...(m.set ?? [])].some((v) => v.id === 'timing')), { timeoutMs: 30_000, what: 'the dashboard to show the published timing' });
    expect(refusals).toEqual([]);
    // Read-only, because the apiserver says so (SelfSubjectAccessReview): its API buttons are off, with the reason,
    // and an action is refused by the dashboard before it reaches the apiserver.
    type Snap = { t?: string; actions?: string[]; readOnlyReason?: string };
    const readOnly = (await waitFor(() => (seen as Snap[]).find((m) => m.t === 'snapshot' && (m.readOnlyReason ?? '').includes('may not')), { timeoutMs: 30_000, what: 'a read-only snapshot' })) as Snap;
    expect(readOnly.actions).toEqual([]);
    expect(readOnly.readOnlyReason).toContain("cordon, uncordon, drain, scale, delete-pod: the dashboard's identity may not patch nodes, create pods/eviction, patch deployments.apps/scale, delete pods");
    ws.send(JSON.stringify({ t: 'action', id: 'a1', action: 'cordon', node: NODE }));
    const result = (await waitFor(() => seen.find((m) => m.t === 'result'), { timeoutMs: 10_000, what: 'the cordon result' })) as { ok?: boolean; error?: string };
    expect(result.ok).toBe(false);
    expect(result.error).toContain('may not patch nodes');
    // Bound to a role that may, it turns its buttons on at its next check, without a restart.
    await c.create('clusterrolebindings', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'dashboard-admin' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'system:kubelab-dashboard' }],
    } as never);
    await waitFor(() => (seen as Snap[]).some((m) => m.t === 'snapshot' && (m.actions ?? []).includes('cordon') && !m.readOnlyReason), { timeoutMs: 30_000, what: 'the dashboard to turn its API buttons on' });
    ws.send(JSON.stringify({ t: 'action', id: 'a2', action: 'cordon', node: NODE }));
    expect(await waitFor(() => seen.find((m) => m.t === 'result' && (m as { id?: string }).id === 'a2'), { timeoutMs: 10_000, what: 'the second cordon result' })).toMatchObject({ ok: true });
    ws.send(JSON.stringify({ t: 'action', id: 'a3', action: 'uncordon', node: NODE }));
    await waitFor(() => seen.find((m) => m.t === 'result' && (m as { id?: string }).id === 'a3'), { timeoutMs: 10_000, what: 'the uncordon result' });
    await c.delete('clusterrolebindings', 'dashboard-admin');
    ws.close();

    await c.delete('namespaces', ns);
    await waitFor(async () => c.get('namespaces', ns).then(() => false, (err: unknown) => isNotFound(err)), { timeoutMs: 60_000, what: 'the namespace to be emptied and removed' });
    expect(refusals).toEqual([]);
  }, 120_000);
});
