/**
 * A throwaway etcd for tests: the host's etcd binary on free loopback ports with a temp data dir,
 * killed and removed by `stop()` (call it in afterAll; it is safe to call twice).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestEtcd {
  readonly endpoint: string;
  /** The etcd process id (benchmarks read its CPU time). */
  readonly pid: number | undefined;
  stop(): Promise<void>;
  /** Stops and starts the same member (same data), for restart tests; `whileDown` runs while it is stopped. */
  restart(whileDown?: () => Promise<void>): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

/**
 * etcd dies with the process that started it, even when that process is SIGKILLed (a vitest worker
 * killed on a timeout runs no 'exit' handler): util-linux's setpriv sets the parent-death signal and
 * execs etcd in place (same pid). Without setpriv (not Linux) the 'exit' handler above is all there is.
 */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
export function etcdCommand(bin: string, args: string[]): [string, string[]] {
  return SETPRIV ? [SETPRIV, ['--pdeathsig', 'KILL', '--', bin, ...args]] : [bin, args];
}

async function distinctPort(other: number): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (p !== other) return p;
  }
}

/** `args`: more etcd flags (a benchmark's larger `--quota-backend-bytes`). */
export async function startEtcd(opts: { args?: string[] } = {}): Promise<TestEtcd> {
  const dir = mkdtempSync(join(tmpdir(), 'kubelab-etcd-'));
  let clientPort = await freePort();
  let peerPort = await distinctPort(clientPort);
  let endpoint = `http://127.0.0.1:${clientPort}`;
  let dataDir = join(dir, 'data');
  let proc: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const p = spawn(
      ...etcdCommand(process.env.KUBELAB_ETCD_BIN ?? 'etcd', [
        '--data-dir', dataDir,
        '--listen-client-urls', endpoint,
        '--advertise-client-urls', endpoint,
        '--listen-peer-urls', `http://127.0.0.1:${peerPort}`,
        '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
        '--initial-cluster', `default=http://127.0.0.1:${peerPort}`,
        '--unsafe-no-fsync',
        // As the lab's etcd: the apiserver's 3 s keepalive pings are welcome (cli/lab/spec.ts etcdArgs).
        '--grpc-keepalive-min-time', '1s',
        '--log-level', 'error',
        // As the lab's etcd (cli/lab/spec.ts etcdArgs) and kubeadm's.
        '--snapshot-count', '10000',
        ...(opts.args ?? []),
      ]),
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    proc = p;
    live.add(p);
    let stderr = '';
    p.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (p.exitCode !== null) throw new Error(`etcd exited with ${p.exitCode}: ${stderr}`);
      try {
        const res = await fetch(`${endpoint}/health`);
        if (res.ok) return;
      } catch {
        /* not up yet */
      }
      if (Date.now() > deadline) throw new Error(`etcd did not become healthy within 15 s: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const kill = async (): Promise<void> => {
    const p = proc;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
    live.delete(p);
  };
  // A port found free can be taken by another process before etcd binds it: try fresh ports then.
  for (let attempt = 0; ; attempt++) {
    try {
      await launch();
      break;
    } catch (err) {
      if (attempt >= 4 || !/address already in use/.test(String(err))) throw err;
      clientPort = await freePort();
      peerPort = await distinctPort(clientPort);
      endpoint = `http://127.0.0.1:${clientPort}`;
      dataDir = join(dir, `data-${attempt + 1}`);
    }
  }
  return {
    endpoint,
    get pid() {
      return proc?.pid;
    },
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
    restart: async (whileDown?: () => Promise<void>) => {
      await kill();
      try {
        await whileDown?.();
      } finally {
        await launch();
      }
    },
  };
}
