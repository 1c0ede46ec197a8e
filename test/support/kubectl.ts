/**
 * Running a real kubectl against a test cluster: one-shot commands with their exit code and output, and
 * long-running ones (logs -f, port-forward, get -w) whose output is collected as it arrives.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export interface KubectlRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface KubectlOptions {
  /** The kubectl binary. */
  bin: string;
  kubeconfig: string;
  /** kubectl's HOME; its discovery cache goes to `<home>/cache`, so tests do not share ~/.kube/cache. */
  home: string;
  namespace: string;
  /** Timeout of a one-shot command unless the call gives one. */
  timeoutMs: number;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  /** Another kubectl binary for this call (an older version speaking SPDY). */
  bin?: string;
}

/** A long-running kubectl and everything it printed so far (stdout and stderr). */
export interface BackgroundKubectl {
  child: ChildProcess;
  out(): string;
}

export class Kubectl {
  private readonly children = new Set<ChildProcess>();

  constructor(readonly o: KubectlOptions) {}

  /** The full argument list: kubeconfig, cache dir and namespace, then `args`. */
  args(args: string[]): string[] {
    return [`--kubeconfig=${this.o.kubeconfig}`, `--cache-dir=${join(this.o.home, 'cache')}`, '-n', this.o.namespace, ...args];
  }

  get env(): NodeJS.ProcessEnv {
    return { ...process.env, KUBECONFIG: this.o.kubeconfig, HOME: this.o.home };
  }

  run(args: string[], opts: RunOptions = {}): Promise<KubectlRun> {
    return new Promise((resolve) => {
      const child = execFile(opts.bin ?? this.o.bin, this.args(args), { timeout: opts.timeoutMs ?? this.o.timeoutMs, env: this.env }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
      child.stdin?.end(opts.input ?? '');
    });
  }

  background(args: string[], bin = this.o.bin): BackgroundKubectl {
    const child = spawn(bin, this.args(args), { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    return { child, out: () => out };
  }

  /** Kills every background kubectl still running (afterAll). */
  killAll(): void {
    for (const c of this.children) c.kill('SIGKILL');
  }
}

/** Stops a background kubectl as a person would (Ctrl-C) and waits for it to exit. */
export async function stopKubectl(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  await exited;
}
