/**
 * apiserver benchmark: create throughput/latency through the apiserver vs raw etcd3 puts at the same
 * concurrency in the same run, creates through a second apiserver serving TLS with client-certificate
 * authentication (the lab default) vs the plain --insecure one on the same etcd, and watch fan-out
 * delivery latency at 1/100/1000 watchers.
 * Run: npm run build && node dist/bench/apiserver.js [--creates 2000] [--rounds 3] [--concurrency 1,16,64]
 *   [--watchers 1,100,1000] (`--watchers 0` or `--concurrency 0` skips that part)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setMaxListeners } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Etcd3 } from 'etcd3';
import { GRPC_BASE_OPTIONS } from '../client/proto.js';
import { ApiClient } from '../client/api.js';
import type { core } from '../api/types.js';
import { freePort, startEtcd } from '../test/support/etcd.js';
import { testPki } from '../test/support/pki.js';
import { flag, imageNodeOptions, listFlag, median, percentile, printTable, processCpuMs } from './stats.js';

const payload = (name: string): core.ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'bench', labels: { app: 'bench' } },
  data: { key: 'x'.repeat(512) },
});

async function timed(n: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<{ opsPerSec: number; lat: number[] }> {
  const lat: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) {
        const t = performance.now();
        await op(i);
        lat.push(performance.now() - t);
      }
    }),
  );
  return { opsPerSec: (n / (performance.now() - start)) * 1000, lat };
}

async function main(): Promise<void> {
  const creates = flag('creates', 2000);
  const rounds = flag('rounds', 3);
  // The apiserver runs in its own process, as in the lab, so the load generator does not share its CPU.
  const testEtcd = await startEtcd();
  const grpcPort = await freePort();
  const httpPort = await freePort();
  const here = dirname(fileURLToPath(import.meta.url));
  const component = join(here, '..', 'cmd', 'component.js');
  const nodeArgs = (process.env.KUBELAB_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  // The servers run with the Node options of the kubelab image, as in the lab.
  const nodeOptions = imageNodeOptions();
  const apiserverArgs = (grpc: number, http: number, extra: string[]): string[] => [
    ...nodeArgs, component, 'apiserver', '--etcd-servers', testEtcd.endpoint, '--grpc-port', String(grpc), '--http-port', String(http), '--admin-port', '0', '--bind-address', '127.0.0.1', ...extra,
  ];
  const child = spawn(process.execPath, apiserverArgs(grpcPort, httpPort, ['--insecure']), {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, KUBELAB_LOG_LEVEL: 'warn', NODE_OPTIONS: nodeOptions },
  });
  // The same apiserver with TLS + client-certificate authentication, as every lab runs it.
  const pki = await testPki();
  const tlsPort = await freePort();
  const tlsChild = spawn(
    process.execPath,
    apiserverArgs(tlsPort, await freePort(), ['--tls-cert-file', join(pki.dir, 'apiserver.crt'), '--tls-private-key-file', join(pki.dir, 'apiserver.key'), '--client-ca-file', join(pki.dir, 'ca.crt')]),
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, KUBELAB_LOG_LEVEL: 'warn', NODE_OPTIONS: nodeOptions } },
  );
  const tlsClient = new ApiClient(`127.0.0.1:${tlsPort}`, { tls: pki.client('admin') });
  // The apiserver as every secure lab runs it: TLS, authentication (here a bearer token, as a pod's
  // ServiceAccount), Node,RBAC, the default admission plugins and the lab's audit policy writing its log.
  // Its creates are compared with the plain AlwaysAllow apiserver's in the same run (goal: within 15 %).
  const authDir = mkdtempSync(join(tmpdir(), 'kubelab-bench-'));
  const tokenFile = join(authDir, 'tokens.csv');
  const BENCH_TOKEN = 'bench-token-0123456789abcdef';
  writeFileSync(tokenFile, `${BENCH_TOKEN},bench-user,bench-uid\n`);
  const rbacGrpcPort = await freePort();
  const rbacChild = spawn(
    process.execPath,
    [...nodeArgs, component, 'apiserver', '--etcd-servers', testEtcd.endpoint, '--grpc-port', String(rbacGrpcPort), '--http-port', String(await freePort()), '--admin-port', '0', '--bind-address', '127.0.0.1',
      '--tls-cert-file', join(pki.dir, 'apiserver.crt'), '--tls-private-key-file', join(pki.dir, 'apiserver.key'), '--client-ca-file', join(pki.dir, 'ca.crt'),
      '--authorization-mode', 'Node,RBAC', '--token-auth-file', tokenFile, '--pod-security-defaults', 'enforce=baseline',
      '--audit-log-path', join(authDir, 'audit.log'), '--audit-policy-file', join(here, '..', '..', 'deploy', 'audit-policy.yaml')],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, KUBELAB_LOG_LEVEL: 'warn', NODE_OPTIONS: nodeOptions } },
  );
  // The floor: the same gRPC API and etcd client doing only decode → txn → reply (bench/passthrough.ts).
  const floorPort = await freePort();
  const floor = spawn(process.execPath, [...nodeArgs, join(here, 'passthrough.js'), testEtcd.endpoint, String(floorPort)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: nodeOptions },
  });
  await new Promise<void>((resolve, reject) => {
    floor.stdout.once('data', () => resolve());
    floor.once('exit', (code) => reject(new Error(`pass-through server exited with ${code}`)));
  });
  const floorClient = new ApiClient(`127.0.0.1:${floorPort}`);
  const address = `127.0.0.1:${grpcPort}`;
  const cp = { address, client: new ApiClient(address), etcd: testEtcd };
  await cp.client.list('namespaces');
  await tlsClient.list('namespaces');
  const etcd = new Etcd3({ hosts: cp.etcd.endpoint, grpcOptions: { ...GRPC_BASE_OPTIONS } });
  const rbacClient = new ApiClient(`127.0.0.1:${rbacGrpcPort}`, { token: BENCH_TOKEN, tls: { ca: pki.client('admin').ca } });
  try {
    await cp.client.create('namespaces', { metadata: { name: 'bench' } });
    await cp.client.create('rolebindings', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'bench-edit', namespace: 'bench' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'bench-user' }],
    } as never);
    // Until the RBAC apiserver is up and its caches hold the binding (and edit's aggregated rules).
    for (let i = 0; ; i++) {
      try {
        await rbacClient.create('configmaps', payload('rbac-probe'));
        break;
      } catch (err) {
        if (i > 300) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const rows: (string | number)[][] = [];
    const tlsRows: (string | number)[][] = [];
    const cpuRows: (string | number)[][] = [];
    // CPU used by each process during a phase, per operation: where the time goes on a CPU-bound machine.
    const pids = { client: process.pid, apiserver: child.pid, etcd: testEtcd.pid, floor: floor.pid };
    const cpuNow = (): number[] => Object.values(pids).map(processCpuMs);
    const cpuPerOp = (before: number[], n: number): number[] => cpuNow().map((ms, i) => ((ms - before[i]) * 1000) / n);
    let run = 0;
    for (const c of listFlag('concurrency', [1, 16, 64])) {
      const api: number[] = [];
      const raw: number[] = [];
      const flo: number[] = [];
      const rb: number[] = [];
      const floCpu: number[][] = [];
      const apiLat: number[] = [];
      const rawLat: number[] = [];
      const apiCpu: number[][] = [];
      const rawCpu: number[][] = [];
      const tls: number[] = [];
      const tlsLat: number[] = [];
      const plainLat: number[] = [];
      for (let r = 0; r < rounds; r++) {
        run++;
        const n = c === 1 ? Math.min(creates, 500) : creates;
        let before = cpuNow();
        const a = await timed(n, c, (i) => cp.client.create('configmaps', payload(`c${c}-r${run}-${i}`)));
        apiCpu.push(cpuPerOp(before, n));
        const body = JSON.stringify(payload('x'));
        before = cpuNow();
        const e = await timed(n, c, (i) => etcd.put(`/raw/c${c}-r${run}-${i}`).value(body).exec());
        rawCpu.push(cpuPerOp(before, n));
        before = cpuNow();
        const z = await timed(n, c, (i) => rbacClient.create('configmaps', payload(`rbac-c${c}-r${run}-${i}`)));
        rb.push(z.opsPerSec);
        const f = await timed(n, c, (i) => floorClient.create('configmaps', payload(`c${c}-r${run}-${i}`)));
        floCpu.push(cpuPerOp(before, n));
        const t = await timed(n, c, (i) => tlsClient.create('configmaps', payload(`tls-c${c}-r${run}-${i}`)));
        tls.push(t.opsPerSec);
        tlsLat.push(...t.lat);
        plainLat.push(...a.lat);
        flo.push(f.opsPerSec);
        api.push(a.opsPerSec);
        raw.push(e.opsPerSec);
        apiLat.push(...a.lat);
        rawLat.push(...e.lat);
      }
      const col = (runs: number[][], i: number): number => median(runs.map((r) => r[i]));
      cpuRows.push([c, col(apiCpu, 0), col(apiCpu, 1), col(apiCpu, 2), col(floCpu, 0), col(floCpu, 3), col(floCpu, 2), col(rawCpu, 0), col(rawCpu, 2)]);
      tlsRows.push([c, median(api), median(tls), median(tls) / median(api), percentile(plainLat, 50), percentile(tlsLat, 50), percentile(plainLat, 99), percentile(tlsLat, 99)]);
      rows.push([c, median(api), median(rb), median(rb) / median(api), median(raw), median(api) / median(raw), median(flo), median(flo) / median(raw), percentile(apiLat, 50), percentile(apiLat, 99), percentile(rawLat, 50), percentile(rawLat, 99)]);
    }
    if (rows.length) printTable(
      `Create throughput (median of ${rounds} rounds; target apiserver >= 0.5x raw etcd; the secure lab's apiserver — TLS + token + Node,RBAC + admission + audit — within 15 % of plain AlwaysAllow)`,
      ['concurrency', 'apiserver creates/s', 'secure creates/s', 'secure/plain', 'raw etcd puts/s', 'ratio', 'floor creates/s', 'floor ratio', 'api p50 ms', 'api p99 ms', 'etcd p50 ms', 'etcd p99 ms'],
      rows,
    );
    if (tlsRows.length)
      printTable(
        `Creates through TLS + client-certificate authentication vs plain (--insecure), same etcd, median of ${rounds} rounds; goal: within 15 %`,
        ['concurrency', 'plain creates/s', 'TLS+authn creates/s', 'ratio', 'plain p50 ms', 'TLS p50 ms', 'plain p99 ms', 'TLS p99 ms'],
        tlsRows,
      );
    if (cpuRows.length)
      printTable(
        'CPU time per operation, µs (median of rounds; 2 cores = 2000 ms of CPU per second)',
        ['concurrency', 'api: bench client', 'api: apiserver', 'api: etcd', 'floor: bench client', 'floor: server', 'floor: etcd', 'raw: bench client', 'raw: etcd'],
        cpuRows,
      );

    const watchRows: (string | number)[][] = [];
    for (const watchers of listFlag('watchers', [1, 100, 1000])) {
      const clients = Array.from({ length: Math.ceil(watchers / 100) }, () => new ApiClient(cp.address));
      const ctl = new AbortController();
      setMaxListeners(0, ctl.signal);
      const pending = new Map<string, { start: number; left: number }>();
      const lat: number[] = [];
      let ready = 0;
      const list = await cp.client.list('configmaps', { namespace: 'bench', limit: 1 });
      for (let w = 0; w < watchers; w++) {
        const client = clients[Math.floor(w / 100)];
        void (async () => {
          const stream = client.watch('configmaps', { namespace: 'bench', labelSelector: 'app=fanout', resourceVersion: list.metadata.resourceVersion, signal: ctl.signal });
          ready++;
          try {
            for await (const ev of stream) {
              const p = pending.get(ev.object.metadata?.name ?? '');
              if (!p) continue;
              lat.push(performance.now() - p.start);
              p.left--;
            }
          } catch {
            /* aborted */
          }
        })();
      }
      while (ready < watchers) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 500));
      for (let i = 0; i < 20; i++) {
        const name = `fanout-${watchers}-${i}`;
        const entry = { start: performance.now(), left: watchers };
        pending.set(name, entry);
        await cp.client.create('configmaps', { ...payload(name), metadata: { name, namespace: 'bench', labels: { app: 'fanout' } } });
        const deadline = Date.now() + 10_000;
        while (entry.left > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
      }
      ctl.abort();
      clients.forEach((c) => c.close());
      watchRows.push([watchers, lat.length, percentile(lat, 50), percentile(lat, 99)]);
    }
    if (watchRows.length) printTable('Watch fan-out: one write observed by N watchers (20 writes; target p99 < 100 ms at 1000)', ['watchers', 'deliveries', 'p50 ms', 'p99 ms'], watchRows);
  } finally {
    etcd.close();
    cp.client.close();
    rbacClient.close();
    floorClient.close();
    tlsClient.close();
    rbacChild.kill('SIGTERM');
    rmSync(authDir, { recursive: true, force: true });
    floor.kill('SIGTERM');
    tlsChild.kill('SIGTERM');
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
    await testEtcd.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
