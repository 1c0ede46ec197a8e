/**
 * A secure test cluster (the default) in Docker, as a user meets it: kubectl works with the written
 * kubeconfig alone (discovery, apply, logs, exec, auth whoami), the host without credentials gets 401 on
 * resources and 200 on /healthz and /version, a kubelet's 10250 and etcd refuse callers without the right
 * client certificate — also from inside a pod — and a node added at runtime gets its own certificates.
 * Authorization and admission are on by default: a pod's ServiceAccount token (kubectl inside the pod)
 * may list pods only once a RoleBinding grants it, a privileged pod runs only in a namespace labelled
 * for it, and a kubelet's credentials reach only what its own pods use.
 */
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exec, ipOn, listByLabels } from '../../cli/lab/docker.js';
import { controlPlaneNetwork, kubernetesServiceIp, workerIp } from '../../cli/lab/spec.js';
import type { core } from '../../api/types.js';
import { startCluster, type TestCluster } from '../cluster/index.js';
import { waitFor } from '../support/wait.js';

const run = promisify(execFile);
const KUBECTL_IN_POD = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33';
let cluster: TestCluster;

function get(url: string, opts: RequestOptions & { body?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const { body: payload, ...reqOpts } = opts;
    const req = httpsRequest(url, { ...reqOpts, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(payload);
  });
}

/** The Docker container of a pod's container (the kubelet labels them). */
async function podContainer(namespace: string, pod: string, container: string): Promise<ReturnType<TestCluster['lab']['docker']['getContainer']>> {
  const list = await cluster.lab.docker.listContainers({ filters: JSON.stringify({ label: [`io.kubelab.pod.namespace=${namespace}`, `io.kubelab.pod.name=${pod}`, `io.kubelab.container=${container}`] }) });
  if (!list[0]) throw new Error(`no container ${container} of pod ${namespace}/${pod}`);
  return cluster.lab.docker.getContainer(list[0].Id);
}

/** Whether this Docker engine starts privileged containers at all (a sandboxed engine may refuse every one). */
async function dockerRunsPrivileged(): Promise<boolean> {
  const probe = await cluster.lab.docker.createContainer({ Image: 'kubelab/busybox', Cmd: ['true'], Labels: { 'io.kubelab.cluster': cluster.name }, HostConfig: { Privileged: true } });
  try {
    await probe.start();
    return true;
  } catch {
    return false;
  } finally {
    await probe.remove({ force: true }).catch(() => undefined);
  }
}

/** Waits for a pod to run; on timeout the error carries its status and events (what kubectl describe shows). */
async function running(namespace: string, name: string): Promise<void> {
  try {
    await waitFor(async () => ((await cluster.client.get('pods', name, { namespace })) as core.Pod).status?.phase === 'Running', { timeoutMs: 90_000, what: `pod ${namespace}/${name} to run` });
  } catch (err) {
    const pod = (await cluster.client.get('pods', name, { namespace }).catch(() => undefined)) as core.Pod | undefined;
    const events = (await cluster.client.list('events', { namespace }).catch(() => ({ items: [] }))).items.map((e) => `${(e as core.Event).reason}: ${(e as core.Event).message}`);
    throw new Error(`${(err as Error).message}; status ${JSON.stringify(pod?.status)}; events ${JSON.stringify(events)}`);
  }
}

const kubectl = async (...args: string[]): Promise<string> =>
  (await run('kubectl', args, { env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath }, timeout: 120_000 })).stdout;

export function securitySuite(lab: () => TestCluster): void {
  describe('a secure test cluster', () => {
    beforeAll(() => {
      cluster = lab();
    });

    afterAll(async () => {
      await cluster?.client.delete('pods', 'sec', { namespace: 'default', gracePeriodSeconds: 0 }).catch(() => undefined);
    });

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

    it("a pod's ServiceAccount token lists pods only once a RoleBinding grants it; kubectl auth can-i in the pod agrees", async () => {
      const ns = 'sa-test';
      await kubectl('create', 'namespace', ns);
      await kubectl('run', 'client', '-n', ns, '--image=kubelab/busybox', '--restart=Never', '--', 'sleep', '3600');
      await running(ns, 'client');
      // The host's kubectl 1.33 (a static binary; the `kubectl` on PATH is gcloud's dispatcher) copied into
      // the pod: it finds the apiserver from KUBERNETES_SERVICE_HOST/PORT and authenticates with the
      // projected token, verifying the server with the projected ca.crt.
      const pack = tar.pack();
      pack.entry({ name: 'kubectl', mode: 0o755 }, await readFile(KUBECTL_IN_POD));
      pack.finalize();
      const chunks: Buffer[] = [];
      for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
      const c = await podContainer(ns, 'client', 'client');
      await c.putArchive(Buffer.concat(chunks), { path: '/tmp' });
      const inPod = (...args: string[]): Promise<{ exitCode: number; output: string }> => exec(c, ['/tmp/kubectl', ...args], 60_000);

      const sa = await exec(c, ['sh', '-c', 'ls /var/run/secrets/kubernetes.io/serviceaccount; cat /var/run/secrets/kubernetes.io/serviceaccount/namespace; echo; echo $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT']);
      expect(sa.output).toContain('ca.crt');
      expect(sa.output).toContain('token');
      expect(sa.output).toContain(ns);
      expect(sa.output).toContain(`${kubernetesServiceIp(cluster.lab.spec)}:443`);

      const who = await inPod('auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}');
      expect(who.output.trim()).toBe(`system:serviceaccount:${ns}:default`);
      const denied = await inPod('get', 'pods', '-v=6');
      expect(denied.exitCode).not.toBe(0);
      // -v=6 logs each response: `GET <url> 403 Forbidden` (older kubectl) or `url="<url>" status="403 Forbidden"`.
      expect(denied.output).toMatch(/\/api\/v1\/namespaces\/sa-test\/pods\?limit=500\S* .*403 Forbidden/);
      expect(denied.output).toContain(`Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:${ns}:default" cannot list resource "pods" in API group "" in the namespace "${ns}"`);
      const cannot = await inPod('auth', 'can-i', 'list', 'pods');
      expect([cannot.exitCode, cannot.output.trim()]).toEqual([1, 'no']);

      await kubectl('create', 'role', 'pod-reader', '-n', ns, '--verb=get,list,watch', '--resource=pods');
      await kubectl('create', 'rolebinding', 'pod-reader', '-n', ns, '--role=pod-reader', `--serviceaccount=${ns}:default`);
      await waitFor(async () => (await inPod('auth', 'can-i', 'list', 'pods')).output.trim() === 'yes', { timeoutMs: 20_000, what: 'the RoleBinding to take effect' });
      const allowed = await inPod('get', 'pods', '-o', 'name', '-v=6');
      expect(allowed.exitCode).toBe(0);
      expect(allowed.output).toMatch(/\/api\/v1\/namespaces\/sa-test\/pods\?limit=500\S* .*200 OK/);
      expect(allowed.output).toContain('pod/client');
      // The Role grants pods in its namespace only.
      const elsewhere = await inPod('auth', 'can-i', 'list', 'pods', '-n', 'default');
      expect(elsewhere.output.trim()).toBe('no');
      const secrets = await inPod('get', 'secrets');
      expect(secrets.output).toContain(`Error from server (Forbidden): secrets is forbidden: User "system:serviceaccount:${ns}:default" cannot list resource "secrets" in API group "" in the namespace "${ns}"`);
    }, 180_000);

    it('refuses a privileged pod in default with the Pod Security message, and runs it in a namespace labelled enforce=privileged', async () => {
      const env = { ...process.env, KUBECONFIG: cluster.kubeconfigPath };
      const pod = (name: string, namespace: string, securityContext: Record<string, unknown>): string =>
        JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec: { containers: [{ name: 'c', image: 'kubelab/busybox', command: ['sleep', '3600'], securityContext }] } });
      const create = async (manifest: string): Promise<string> => (await run('sh', ['-c', `echo '${manifest}' | kubectl create -f - 2>&1; true`], { env })).stdout.trim();
      const PRIVILEGED = { privileged: true };
      const SYS_ADMIN = { capabilities: { add: ['SYS_ADMIN'] } };
      expect(await create(pod('priv', 'default', PRIVILEGED))).toBe(
        'Error from server (Forbidden): error when creating "STDIN": pods "priv" is forbidden: violates PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true)',
      );
      expect(await create(pod('caps', 'default', SYS_ADMIN))).toBe(
        'Error from server (Forbidden): error when creating "STDIN": pods "caps" is forbidden: violates PodSecurity "baseline:latest": non-default capabilities (container "c" must not include "SYS_ADMIN" in securityContext.capabilities.add)',
      );
      await kubectl('create', 'namespace', 'privileged-ok');
      await kubectl('label', 'namespace', 'privileged-ok', 'pod-security.kubernetes.io/enforce=privileged');
      expect(await create(pod('priv', 'privileged-ok', PRIVILEGED))).toBe('pod/priv created');
      expect(await create(pod('caps', 'privileged-ok', SYS_ADMIN))).toBe('pod/caps created');
      // Past admission, the kubelet's own Pod Security check lets both start.
      await running('privileged-ok', 'caps');
      if (await dockerRunsPrivileged()) await running('privileged-ok', 'priv');
      else {
        // This Docker engine refuses every privileged container (a sandboxed engine: "unable to apply caps"):
        // the pod got past the kubelet's Pod Security check, and the engine is what fails it.
        const failed = await waitFor(
          async () => {
            const events = (await cluster.client.list('events', { namespace: 'privileged-ok', fieldSelector: 'involvedObject.name=priv' })).items as core.Event[];
            return events.find((e) => e.reason === 'Failed');
          },
          { timeoutMs: 60_000, what: 'the runtime to try the privileged container' },
        );
        expect(failed.message).not.toContain('PodSecurity');
      }
      await kubectl('delete', 'namespace', 'privileged-ok', '--wait=false');
    }, 240_000);

    it("a kubelet's 10250 refuses callers without the apiserver's client certificate", async () => {
      const url = `https://${workerIp(cluster.lab.spec, 1)}:10250/containerLogs/default/sec/sec`;
      const admin = cluster.adminTls;
      expect((await get(url, { ca: admin?.ca })).status).toBe(401);
      const res = await get(url, { ca: admin?.ca, cert: admin?.cert, key: admin?.key });
      expect(res.status).toBe(403);
    });

    it('etcd sits on the control-plane network: a pod cannot reach it, the apiserver can, and a TLS client without a client certificate is refused', async () => {
      const docker = cluster.lab.docker;
      const [etcdInfo] = await listByLabels(docker, { 'io.kubelab.cluster': cluster.name, 'io.kubelab.component': 'etcd' });
      const etcd = etcdInfo ? ipOn(etcdInfo, controlPlaneNetwork(cluster.lab.spec)) : undefined;
      expect(etcd, 'etcd has an address on the control-plane network').toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(etcdInfo?.NetworkSettings?.Networks?.[cluster.lab.spec.network], 'etcd is not on the pod network').toBeUndefined();
      // The apiserver (on both networks) opens a TCP connection to it; a pod gets no connection at all.
      const [apiserver] = await listByLabels(docker, { 'io.kubelab.cluster': cluster.name, 'io.kubelab.component': 'apiserver' });
      const fromApiserver = await exec(docker.getContainer(apiserver?.Id ?? ''), ['bash', '-c', `timeout 5 bash -c 'exec 3<>/dev/tcp/${etcd}/2379' && echo connected`]);
      expect(fromApiserver.output).toContain('connected');
      // Reachable, etcd would answer plain HTTP with "400 Bad Request" (it serves only TLS); unreachable, wget
      // cannot connect (or is stopped by timeout).
      const fromPod = await exec(await podContainer('default', 'sec', 'sec'), ['sh', '-c', `timeout 5 wget -q -O /dev/null http://${etcd}:2379/version 2>&1; echo exit=$?`]);
      expect(fromPod.output).toMatch(/exit=[1-9]/);
      expect(fromPod.output).not.toMatch(/400|server returned/);
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

    it('keeps Secrets encrypted in etcd with the lab\'s own key, and serves them decrypted', async () => {
      await kubectl('create', 'secret', 'generic', 'at-rest', '--from-literal=password=hunter2-in-clear');
      const [etcdInfo] = await listByLabels(cluster.lab.docker, { 'io.kubelab.cluster': cluster.name, 'io.kubelab.component': 'etcd' });
      // etcdctl inside the etcd container, with etcd's own certificate as the client (clientAuth, as kubeadm's).
      const pki = '/etc/kubernetes/pki';
      const raw = await exec(cluster.lab.docker.getContainer(etcdInfo?.Id ?? ''), [
        'etcdctl', '--endpoints', 'https://127.0.0.1:2379', '--cacert', `${pki}/ca.crt`, '--cert', `${pki}/etcd-server.crt`, '--key', `${pki}/etcd-server.key`,
        'get', '/registry/secrets/default/at-rest', '--print-value-only',
      ]);
      expect(raw.output).toMatch(/^k8s:enc:aesgcm:v1:key1:/);
      expect(raw.output).not.toContain('hunter2');
      expect(raw.output).not.toContain(Buffer.from('hunter2-in-clear').toString('base64'));
      expect(Buffer.from((await kubectl('get', 'secret', 'at-rest', '-o', 'jsonpath={.data.password}')).trim(), 'base64').toString()).toBe('hunter2-in-clear');
    });

    it('`kubelab audit` shows who did what through REST and gRPC, Secrets without their data', async () => {
      await kubectl('create', 'configmap', 'audited-cm', '--from-literal=k=v');
      await cluster.client.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'audited-grpc', namespace: 'default' } });
      const cli = (...args: string[]) => run('node', ['bin/kubelab.js', 'audit', '--cluster', cluster.name, ...args], { env: { ...process.env, ...cluster.cliEnv }, timeout: 60_000 });
      type Ev = { verb: string; level: string; user: { username: string }; objectRef?: { name?: string; resource?: string }; annotations?: Record<string, string> };
      const events = async (...args: string[]): Promise<Ev[]> => (await cli('--tail', '-1', '-o', 'json', ...args)).stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Ev);
      const creates = await waitFor(async () => {
        const list = await events('--verb', 'create', '--resource', 'configmaps');
        return list.some((e) => e.objectRef?.name === 'audited-grpc') && list.some((e) => e.objectRef?.name === 'audited-cm') ? list : undefined;
      }, { timeoutMs: 20_000, what: 'both ConfigMap creates in the audit log' });
      expect(creates.find((e) => e.objectRef?.name === 'audited-cm')).toMatchObject({ user: { username: 'kubernetes-admin' }, level: 'Metadata' });
      expect(creates.find((e) => e.objectRef?.name === 'audited-grpc')?.annotations?.['kubelab.io/transport']).toBe('grpc');
      const secrets = await events('--resource', 'secrets');
      expect(secrets.find((e) => e.objectRef?.name === 'at-rest' && e.verb === 'create')?.level).toBe('Metadata');
      expect(JSON.stringify(secrets)).not.toContain('hunter2');
      // The table: a header and one row per event, the components' own reads and leases left out by the policy.
      const table = (await cli('--verb', 'create', '--resource', 'configmaps')).stdout.split('\n');
      expect(table[0]).toMatch(/^TIME\s+USER\s+VERB\s+CODE\s+OBJECT\s+VIA$/);
      expect(table.some((l) => /kubernetes-admin\s+create\s+201\s+configmaps default\/audited-cm\s+REST/.test(l))).toBe(true);
      expect((await events('--resource', 'leases')).length).toBe(0);
      // Bad input names the option.
      await expect(cli('--tail', 'ten')).rejects.toMatchObject({ stderr: expect.stringContaining('--tail: "ten"') });
      // Following, then Ctrl-C: the `tail` it runs in the apiserver container goes too (Docker leaves an exec'd
      // process running when its client leaves).
      const [apiserverInfo] = await listByLabels(cluster.lab.docker, { 'io.kubelab.cluster': cluster.name, 'io.kubelab.component': 'apiserver' });
      // The loop's stderr as a whole: a process that exits mid-loop (a healthcheck) makes the shell itself complain
      // that its cmdline cannot be opened (ciT: that line made the count NaN).
      const tails = async (): Promise<number> =>
        Number((await exec(cluster.lab.docker.getContainer(apiserverInfo?.Id ?? ''), ['sh', '-c', 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo; done 2>/dev/null | grep -c "^tail" || true'])).output.trim());
      const follow = spawn('node', ['bin/kubelab.js', 'audit', '--cluster', cluster.name, '-f', '--tail', '1'], { env: { ...process.env, ...cluster.cliEnv } });
      let followed = '';
      follow.stdout.on('data', (b: Buffer) => (followed += b.toString()));
      await waitFor(() => followed.includes('TIME'), { timeoutMs: 20_000, what: 'kubelab audit -f to print' });
      expect(await tails()).toBe(1);
      const exited = new Promise((resolve) => follow.once('exit', resolve));
      follow.kill('SIGINT');
      await exited;
      await waitFor(async () => (await tails()) === 0, { timeoutMs: 10_000, what: "the follow's tail to end in the apiserver container" });
    });

    it('a node added at runtime gets its own certificates and joins', async () => {
      const name = await cluster.addNode();
      expect(name).toBe(`worker-${cluster.nodes.length}`);
      expect(await kubectl('get', 'node', name, '-o', 'name')).toContain(`node/${name}`);
      // Its own certificate: the apiserver knows it as system:node:<name>.
      const pki = cluster.pkiDir ?? '';
      const own = { ca: cluster.adminTls?.ca, cert: await readFile(join(pki, `nodes/${name}/kubelet.crt`)), key: await readFile(join(pki, `nodes/${name}/kubelet.key`)) };
      const who = await get(`${cluster.restUrl}/apis/authentication.k8s.io/v1/selfsubjectreviews`, { ...own, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }) });
      expect((JSON.parse(who.body) as { status: { userInfo: { username: string } } }).status.userInfo.username).toBe(`system:node:${name}`);
      await cluster.removeNode(name);
    }, 300_000);

    it("a kubelet's credentials reach only what its own pods use, and only its own Node", async () => {
      // One Secret per node, each mounted by a pod bound to that node.
      const ns = 'node-secrets';
      await cluster.client.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      for (const node of ['worker-1', 'worker-2']) {
        await cluster.client.create('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: `for-${node}`, namespace: ns }, stringData: { v: node } } as never);
        await cluster.client.create('pods', {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: `on-${node}`, namespace: ns },
          spec: {
            nodeName: node,
            containers: [{ name: 'c', image: 'kubelab/busybox', command: ['sleep', '3600'], volumeMounts: [{ name: 's', mountPath: '/s' }] }],
            volumes: [{ name: 's', secret: { secretName: `for-${node}` } }],
          },
        });
      }
      const pki = cluster.pkiDir ?? '';
      const asWorker1: RequestOptions = {
        ca: cluster.adminTls?.ca,
        cert: await readFile(join(pki, 'nodes/worker-1/kubelet.crt')),
        key: await readFile(join(pki, 'nodes/worker-1/kubelet.key')),
      };
      expect((await get(`${cluster.restUrl}/api/v1/namespaces/${ns}/secrets/for-worker-1`, asWorker1)).status).toBe(200);
      const other = await get(`${cluster.restUrl}/api/v1/namespaces/${ns}/secrets/for-worker-2`, asWorker1);
      expect(other.status).toBe(403);
      expect((JSON.parse(other.body) as { message: string }).message).toBe(
        `secrets "for-worker-2" is forbidden: User "system:node:worker-1" cannot get resource "secrets" in API group "" in the namespace "${ns}": no relationship found between node 'worker-1' and this object`,
      );
      expect((await get(`${cluster.restUrl}/api/v1/secrets`, asWorker1)).status).toBe(403);
      const patch = (node: string): Promise<{ status: number; body: string }> =>
        get(`${cluster.restUrl}/api/v1/nodes/${node}`, { ...asWorker1, method: 'PATCH', headers: { 'content-type': 'application/merge-patch+json' }, body: JSON.stringify({ metadata: { labels: { touched: 'yes' } } }) });
      const foreign = await patch('worker-2');
      expect(foreign.status).toBe(403);
      expect((JSON.parse(foreign.body) as { message: string }).message).toBe('nodes "worker-2" is forbidden: node "worker-1" is not allowed to modify node "worker-2"');
      expect((await patch('worker-1')).status).toBe(200);
      await cluster.client.delete('namespaces', ns);
    }, 120_000);
  });
}
