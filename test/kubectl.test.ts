/**
 * Real kubectl (1.33, plus a 1.27 smoke run) against an in-process apiserver through the REST facade.
 * Streaming commands (logs/exec/attach/port-forward) need a kubelet and are covered by test/streaming.test.ts.
 */
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type TestControlPlane } from './support/apiserver.js';
import { writeKubeconfig, type TestKubeconfig } from './support/kubeconfig.js';
import { waitFor } from './support/wait.js';

const KUBECTL_133 = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33';
const KUBECTL_127 = '/usr/lib/google-cloud-sdk/bin/kubectl.1.27';
const KUBECTL_132 = '/usr/bin/kubectl';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let cp: TestControlPlane;
let kc: TestKubeconfig;

function kubectl(args: string[], opts: { bin?: string; input?: string; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      opts.bin ?? KUBECTL_133,
      [`--kubeconfig=${kc.path}`, `--cache-dir=${join(kc.dir, 'cache')}`, ...args],
      { timeout: opts.timeoutMs ?? 30_000, env: { ...process.env, KUBECONFIG: kc.path, HOME: kc.dir } },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

async function ok(args: string[], opts: { bin?: string; input?: string } = {}): Promise<string> {
  const r = await kubectl(args, opts);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const manifest = (value: string, extra = ''): string => `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: "${value}"
---
apiVersion: v1
kind: Pod
metadata:
  name: box
  labels: {app: box}
spec:
  containers:
  - name: main
    image: kubelab/busybox:latest
    command: ["sleep", "3600"]${extra}
`;

beforeAll(async () => {
  cp = await startControlPlane({ watchWindowSize: 40, bookmarkIntervalMs: 300 });
  kc = writeKubeconfig(cp.apiserver.httpPort);
});

afterAll(async () => {
  await cp?.stop();
  kc?.cleanup();
});

describe.skipIf(!existsSync(KUBECTL_133))('kubectl 1.33', () => {
  it('reports the server version and lists resources with their short names', async () => {
    const [version, resources] = await Promise.all([ok(['version']), ok(['api-resources'])]);
    expect(version).toMatch(/Server Version: v1\.32\.0/);
    for (const [name, short] of [['pods', 'po'], ['deployments', 'deploy'], ['services', 'svc'], ['statefulsets', 'sts'], ['daemonsets', 'ds'], ['configmaps', 'cm'], ['namespaces', 'ns'], ['nodes', 'no']])
      expect(resources).toMatch(new RegExp(`^${name}\\s+${short}\\s`, 'm'));
  });

  it('answers auth can-i and whoami (kubelab authorizes every request), and serves PDBs, PriorityClasses and EndpointSlices', async () => {
    expect(await ok(['auth', 'can-i', 'create', 'pods'])).toBe('yes\n');
    expect(await ok(['auth', 'can-i', 'delete', 'nodes', '--all-namespaces'])).toBe('yes\n');
    expect(await ok(['auth', 'whoami'])).toMatch(/Username\s+kubelab-admin/);
    const classes = await ok(['get', 'priorityclasses']);
    expect(classes.split('\n')[0].split(/\s{2,}/)).toEqual(['NAME', 'VALUE', 'GLOBAL-DEFAULT', 'AGE', 'PREEMPTIONPOLICY']);
    expect(classes).toMatch(/^system-node-critical\s+2000001000\s+false/m);
    await ok(['create', 'namespace', 'pdb-test']);
    await ok(['create', 'poddisruptionbudget', 'web', '-n', 'pdb-test', '--selector=app=web', '--min-available=2']);
    expect((await ok(['get', 'pdb', '-n', 'pdb-test'])).split('\n')[0].split(/\s{2,}/)).toEqual(['NAME', 'MIN AVAILABLE', 'MAX UNAVAILABLE', 'ALLOWED DISRUPTIONS', 'AGE']);
    expect(await ok(['get', 'endpointslices', '-A'])).toBe('');
  });

  it('applies manifests that carry RBAC objects, and creates them with its typed (protobuf) client', async () => {
    await ok(['create', 'namespace', 'rbac-test']);
    const file = join(kc.dir, 'rbac.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: reader, namespace: rbac-test}',
        'apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: pod-reader, namespace: rbac-test}\nrules:\n- {apiGroups: [""], resources: [pods], verbs: [get, list, watch]}',
        'apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: read-pods, namespace: rbac-test}\nsubjects:\n- {kind: ServiceAccount, name: reader, namespace: rbac-test}\nroleRef: {kind: Role, name: pod-reader, apiGroup: rbac.authorization.k8s.io}',
        'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: node-reader}\nrules:\n- {apiGroups: [""], resources: [nodes], verbs: [get, list]}',
      ].join('\n---\n'),
    );
    expect(await ok(['apply', '-f', file])).toBe(
      'serviceaccount/reader created\nrole.rbac.authorization.k8s.io/pod-reader created\nrolebinding.rbac.authorization.k8s.io/read-pods created\nclusterrole.rbac.authorization.k8s.io/node-reader created\n',
    );
    expect(await ok(['create', 'clusterrolebinding', 'read-nodes', '--clusterrole=node-reader', '--serviceaccount=rbac-test:reader'])).toMatch(/created/);
    expect(await ok(['get', 'rolebindings', '-n', 'rbac-test', '-o', 'wide'])).toMatch(/^read-pods\s+Role\/pod-reader\s+\S+\s+rbac-test\/reader$/m);
    const bad = await kubectl(['apply', '-f', '-'], {
      input: 'apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: bad, namespace: rbac-test}\nroleRef: {kind: Pod, name: x, apiGroup: rbac.authorization.k8s.io}\n',
    });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/roleRef\.kind: Unsupported value: "Pod"/);
  });

  it('applies a multi-document file: created, then unchanged, then configured', async () => {
    await ok(['create', 'namespace', 'apply-test']);
    const file = join(kc.dir, 'app.yaml');
    writeFileSync(file, manifest('a'));
    expect(await ok(['apply', '-n', 'apply-test', '-f', file])).toBe('configmap/settings created\npod/box created\n');
    expect(await ok(['apply', '-n', 'apply-test', '-f', file])).toBe('configmap/settings unchanged\npod/box unchanged\n');
    writeFileSync(file, manifest('b'));
    expect(await ok(['apply', '-n', 'apply-test', '-f', file])).toBe('configmap/settings configured\npod/box unchanged\n');
    expect(await ok(['get', 'cm', 'settings', '-n', 'apply-test', '-o', 'jsonpath={.data.mode}'])).toBe('b');
  });

  it('prints pods as a server-side table, wide and across namespaces', async () => {
    const table = await ok(['get', 'pods', '-n', 'apply-test']);
    const [header, row] = table.trim().split('\n');
    expect(header.split(/\s{2,}/)).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    expect(row).toMatch(/^box\s+0\/1\s+Pending\s+0\s+\d+s$/);
    const wide = await ok(['get', 'pods', '-n', 'apply-test', '-o', 'wide']);
    expect(wide.split('\n')[0].split(/\s{2,}/)).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
    const all = await ok(['get', 'pods', '-A']);
    expect(all).toMatch(/^NAMESPACE\s+NAME\s+READY/);
    expect(all).toMatch(/^apply-test\s+box\s+0\/1\s+Pending/m);
  });

  it('prints objects as yaml, json and jsonpath', async () => {
    const [yaml, json, path] = await Promise.all([
      ok(['get', 'pod', 'box', '-n', 'apply-test', '-o', 'yaml']),
      ok(['get', 'pod', 'box', '-n', 'apply-test', '-o', 'json']),
      ok(['get', 'pods', '-n', 'apply-test', '-o', 'jsonpath={.items[*].spec.containers[0].image}']),
    ]);
    expect(yaml).toMatch(/^kind: Pod$/m);
    expect(yaml).toMatch(/kubectl.kubernetes.io\/last-applied-configuration/);
    const obj = JSON.parse(json) as { metadata: { name: string; uid: string }; status: { phase: string } };
    expect(obj.metadata.name).toBe('box');
    expect(obj.status.phase).toBe('Pending');
    expect(path).toBe('kubelab/busybox:latest');
  });

  it('labels and annotates, and selects by label', async () => {
    expect(await ok(['label', 'pod', 'box', '-n', 'apply-test', 'tier=web'])).toBe('pod/box labeled\n');
    expect(await ok(['annotate', 'pod', 'box', '-n', 'apply-test', 'owner=team-a'])).toBe('pod/box annotated\n');
    expect(await ok(['get', 'pods', '-n', 'apply-test', '-l', 'tier=web', '-o', 'name'])).toBe('pod/box\n');
    expect(await ok(['get', 'pods', '-n', 'apply-test', '-l', 'tier=db', '-o', 'name'])).toBe('');
    expect(await ok(['get', 'pod', 'box', '-n', 'apply-test', '-o', 'jsonpath={.metadata.annotations.owner}'])).toBe('team-a');
  });

  it('creates a deployment (protobuf body) and scales it through the scale subresource', async () => {
    expect(await ok(['create', 'deployment', 'web', '-n', 'apply-test', '--image=kubelab/busybox:latest', '--replicas=2'])).toBe('deployment.apps/web created\n');
    expect(await ok(['scale', 'deployment', 'web', '-n', 'apply-test', '--replicas=4'])).toBe('deployment.apps/web scaled\n');
    expect(await ok(['get', 'deploy', 'web', '-n', 'apply-test', '-o', 'jsonpath={.spec.replicas}'])).toBe('4');
    const table = await ok(['get', 'deploy', '-n', 'apply-test', '-o', 'wide']);
    expect(table.split('\n')[0].split(/\s{2,}/)).toEqual(['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
    expect(table).toMatch(/^web\s+0\/4\s+0\s+0\s+\S+\s+busybox\s+kubelab\/busybox:latest\s+app=web$/m);
  });

  it('get -w prints objects created while it watches', async () => {
    await ok(['create', 'namespace', 'watch-test']);
    const watching = kubectl(['get', 'configmaps', '-n', 'watch-test', '-w', '--request-timeout=8s'], { timeoutMs: 10_000 });
    // The watch is up once the apiserver has a watcher on configmaps beyond the ones it had before.
    const cache = cp.apiserver.registry.caches.get('configmaps');
    const before = cache?.subscriberCount ?? 0;
    await waitFor(() => (cache?.subscriberCount ?? 0) > before, { what: 'kubectl watch to connect', timeoutMs: 10_000 });
    await ok(['create', 'configmap', 'late', '-n', 'watch-test']);
    const r = await watching;
    expect(r.stdout).toMatch(/^late\s+0\s+\d+s$/m);
  });

  it('deletes with propagation policies', async () => {
    await ok(['create', 'configmap', 'gone', '-n', 'apply-test']);
    expect(await ok(['delete', 'configmap', 'gone', '-n', 'apply-test'])).toBe('configmap "gone" deleted\n');
    // Without a garbage collector running here, foreground/orphan deletion leaves the object with its finalizer.
    expect(await ok(['delete', 'deployment', 'web', '-n', 'apply-test', '--cascade=foreground', '--wait=false'])).toBe('deployment.apps "web" deleted\n');
    expect(await ok(['get', 'deploy', 'web', '-n', 'apply-test', '-o', 'jsonpath={.metadata.finalizers}'])).toBe('["foregroundDeletion"]');
    await ok(['create', 'configmap', 'kept', '-n', 'apply-test']);
    await ok(['delete', 'configmap', 'kept', '-n', 'apply-test', '--cascade=orphan', '--wait=false']);
    expect(await ok(['get', 'cm', 'kept', '-n', 'apply-test', '-o', 'jsonpath={.metadata.finalizers}'])).toBe('["orphan"]');
  });

  it('shows the usual error messages for unknown fields, 404, 409 and 422', async () => {
    const bad = join(kc.dir, 'bad.yaml');
    writeFileSync(bad, manifest('c', '\n    bogus: 1').replace('name: box', 'name: box2'));
    const [unknown, missing] = await Promise.all([kubectl(['apply', '-n', 'apply-test', '-f', bad]), kubectl(['get', 'pod', 'nope', '-n', 'apply-test'])]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/strict decoding error: unknown field "spec.containers\[0\].bogus"/);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('Error from server (NotFound): pods "nope" not found');
    const dup = await kubectl(['create', '-n', 'apply-test', '-f', join(kc.dir, 'app.yaml')]);
    expect(dup.stderr).toMatch(/Error from server \(AlreadyExists\): error when creating .*: configmaps "settings" already exists/);
    const svc = 'apiVersion: v1\nkind: Service\nmetadata: {name: badport}\nspec:\n  selector: {app: box}\n  ports: [{port: 70000}]\n';
    const invalid = await kubectl(['apply', '-n', 'apply-test', '-f', '-'], { input: svc });
    expect(invalid.code).not.toBe(0);
    // kubectl lists the causes of a 422 one per field.
    expect(invalid.stderr).toMatch(/The Service "badport" is invalid: \n\* spec.ports\[0\].port: Invalid value: 70000: must be between 1 and 65535/);
  });

  it('debug adds an ephemeral container through pods/ephemeralcontainers; a field ephemeral containers may not set gets the server\'s 422', async () => {
    await ok(['create', 'namespace', 'debug-test']);
    // --profile=general adds SYS_PTRACE, which Pod Security's baseline (the cluster default) refuses: as on
    // Kubernetes, the namespace of a pod debugged this way allows it.
    await ok(['label', 'namespace', 'debug-test', 'pod-security.kubernetes.io/enforce=privileged']);
    await ok(['run', 'target', '-n', 'debug-test', '--image=kubelab/busybox:latest', '--', 'sleep', '3600']);
    // No kubelet runs here: --attach=false does not wait for the container to run.
    const debug = (bin: string, name: string, extra: string[] = []): Promise<Run> =>
      kubectl(['debug', 'target', '-n', 'debug-test', '--image=kubelab/busybox:latest', '--attach=false', '--profile=general', '-c', name, '--target=target', ...extra, '--', 'sh', '-c', 'echo hi'], { bin });
    for (const [bin, name] of [[KUBECTL_133, 'dbg'], [KUBECTL_132, 'dbg-132']]) {
      if (!existsSync(bin)) continue;
      const r = await debug(bin, name);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    const pod = JSON.parse(await ok(['get', 'pod', 'target', '-n', 'debug-test', '-o', 'json'])) as { spec: { ephemeralContainers: Record<string, unknown>[] } };
    expect(pod.spec.ephemeralContainers[0]).toMatchObject({ name: 'dbg', image: 'kubelab/busybox:latest', command: ['sh', '-c', 'echo hi'], targetContainerName: 'target', terminationMessagePolicy: 'File' });
    expect(pod.spec.ephemeralContainers.map((e) => e.name)).toEqual(existsSync(KUBECTL_132) ? ['dbg', 'dbg-132'] : ['dbg']);
    const custom = join(kc.dir, 'ports.json');
    writeFileSync(custom, JSON.stringify({ ports: [{ containerPort: 80 }] }));
    const bad = await debug(KUBECTL_133, 'with-port', ['--custom', custom]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toMatch(/^The Pod "target" is invalid: spec.ephemeralContainers\[2\].ports: Forbidden: cannot be set for an Ephemeral Container$/m);
  });

  it('serves IngressClass (added as one table line and one strategy): apply, table columns, immutable controller, typed decoding', async () => {
    const ingressClass = (controller: string): string => `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: external
spec:
  controller: ${controller}
  parameters: {apiGroup: k8s.example.com, kind: IngressParameters, name: external-lb}
`;
    expect(await ok(['apply', '-f', '-'], { input: ingressClass('example.com/ingress-controller') })).toMatch(/ingressclass\.networking\.k8s\.io\/external created/);
    const table = await ok(['get', 'ingressclass']);
    expect(table.split('\n')[0].split(/\s{2,}/)).toEqual(['NAME', 'CONTROLLER', 'PARAMETERS', 'AGE']);
    expect(table).toMatch(/^external\s+example\.com\/ingress-controller\s+IngressParameters\.k8s\.example\.com\/external-lb\s/m);
    const changed = await kubectl(['apply', '-f', '-'], { input: ingressClass('other.io/controller') });
    expect(changed.code).not.toBe(0);
    expect(changed.stderr).toMatch(/The IngressClass "external" is invalid: spec\.controller: Invalid value: "other\.io\/controller": field is immutable/);
    const bad = await kubectl(['create', '-f', '-'], { input: ingressClass('no-domain').replace('name: external\n', 'name: bad\n') });
    expect(bad.stderr).toMatch(/spec\.controller: Invalid value: "no-domain": must be a domain-prefixed path/);
    const typed = await kubectl(['create', '--validate=false', '-f', '-'], { input: ingressClass('a.io/b').replace('name: external\n', 'name: typed\n').replace(/parameters: .*\n/, 'parameters: [1]\n') });
    expect(typed.stderr).toMatch(/cannot unmarshal array into Go struct field IngressClassSpec\.spec\.parameters/);
    expect(await ok(['get', 'ingressclass', '-o', 'name'])).toBe('ingressclass.networking.k8s.io/external\n');
  });

  it('explains fields from the OpenAPI schemas', async () => {
    const out = await ok(['explain', 'pod.spec.containers']);
    expect(out).toMatch(/FIELD: containers <\[\]Container>/);
    expect(out).toMatch(/List of containers belonging to the pod/);
  });
});

describe('REST watch over HTTP', () => {
  it('sends bookmarks and answers a too-old resourceVersion with a 410 Expired event', async () => {
    const base = `http://127.0.0.1:${cp.apiserver.httpPort}/api/v1/namespaces/default/configmaps`;
    const first = await cp.client.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'rv-0', namespace: 'default' } });
    const startRv = first.metadata?.resourceVersion ?? '';
    const res = await fetch(`${base}?watch=true&allowWatchBookmarks=true&timeoutSeconds=5&resourceVersion=${startRv}`);
    const reader = res.body?.getReader();
    // A change the watch filters out (other namespace) moves the revision on; the bookmark carries it.
    await cp.client.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'elsewhere', namespace: 'kube-system' } });
    let text = '';
    await waitFor(
      async () => {
        const chunk = await reader?.read();
        text += new TextDecoder().decode(chunk?.value ?? new Uint8Array());
        return text.includes('"BOOKMARK"') || chunk?.done;
      },
      { what: 'a bookmark', timeoutMs: 6000, intervalMs: 1 },
    );
    await reader?.cancel();
    const bookmark = text.split('\n').map((l) => (l ? (JSON.parse(l) as { type: string; object: { kind: string } }) : undefined)).find((e) => e?.type === 'BOOKMARK');
    expect(bookmark?.object.kind).toBe('ConfigMap');
    // Push the first revision out of the watch window (40 events, trimmed once it holds 44), then resume from it.
    for (let i = 1; i <= 50; i++) await cp.client.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `rv-${i}`, namespace: 'default' } });
    const old = await fetch(`${base}?watch=true&resourceVersion=${startRv}&timeoutSeconds=2`);
    expect(old.status).toBe(200);
    const ev = JSON.parse((await old.text()).split('\n')[0]) as { type: string; object: { kind: string; code: number; reason: string } };
    expect(ev).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
  });
});

describe.skipIf(!existsSync(KUBECTL_127))('kubectl 1.27 smoke', () => {
  it('gets and creates', async () => {
    const bin = KUBECTL_127;
    expect(await ok(['get', 'ns', 'default', '-o', 'name'], { bin })).toBe('namespace/default\n');
    await ok(['create', 'namespace', 'old-kubectl'], { bin });
    expect(await ok(['create', 'configmap', 'c1', '-n', 'old-kubectl', '--from-literal=a=b'], { bin })).toBe('configmap/c1 created\n');
  });

  // 1.27 builds its default validator from /openapi/v2 in protobuf, then leaves validation to the
  // server (fieldValidation=Strict) because the OpenAPI documents list that parameter.
  it('applies with default validation: created, unchanged, configured', async () => {
    const bin = KUBECTL_127;
    const file = join(kc.dir, 'old.yaml');
    writeFileSync(file, manifest('x'));
    expect(await ok(['apply', '-n', 'old-kubectl', '-f', file], { bin })).toBe('configmap/settings created\npod/box created\n');
    expect(await ok(['apply', '-n', 'old-kubectl', '-f', file], { bin })).toBe('configmap/settings unchanged\npod/box unchanged\n');
    writeFileSync(file, manifest('y'));
    expect(await ok(['apply', '-n', 'old-kubectl', '-f', file], { bin })).toBe('configmap/settings configured\npod/box unchanged\n');
    expect(await ok(['get', 'cm', 'settings', '-n', 'old-kubectl', '-o', 'jsonpath={.data.mode}'], { bin })).toBe('y');
    const pods = await ok(['get', 'pods', '-n', 'old-kubectl'], { bin });
    expect(pods).toMatch(/^box\s+0\/1\s+Pending/m);
  });

  it('rejects an unknown field with the server\'s strict decoding error', async () => {
    const bin = KUBECTL_127;
    const bad = join(kc.dir, 'old-bad.yaml');
    writeFileSync(bad, manifest('z', '\n    bogus: 1').replace('name: box', 'name: box3'));
    const r = await kubectl(['apply', '-n', 'old-kubectl', '-f', bad], { bin });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Error from server \(BadRequest\): error when creating ".*old-bad.yaml": Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers\[0\].bogus"/);
    // The valid document of the file still goes through, as with a real cluster.
    expect(r.stdout).toBe('configmap/settings configured\n');
    const missing = await kubectl(['get', 'pod', 'box3', '-n', 'old-kubectl'], { bin });
    expect(missing.stderr.trim()).toBe('Error from server (NotFound): pods "box3" not found');
  });
});
