/**
 * The nginx process: started once in the foreground (`daemon off`) as a child of the controller,
 * tested (`nginx -t`) before every configuration change, and reloaded with SIGHUP — nginx's graceful
 * reload: new workers take new connections, old ones finish the requests they have and exit, so no
 * connection is dropped.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';

const run = promisify(execFile);

/** Thrown when nginx refuses a configuration (`nginx -t`); carries its message. */
export class NginxConfigError extends Error {
  constructor(readonly output: string) {
    super(`nginx -t refused the configuration: ${output.trim().split('\n').slice(-3).join(' | ')}`);
    this.name = 'NginxConfigError';
  }
}

export interface NginxOptions {
  binary: string;
  /** Holds nginx.conf, certs/ (0600) and the pid file. */
  confDir: string;
  logger: Logger;
}

export class Nginx {
  private child?: ChildProcess;
  private onExit: (code: number | null) => void = () => undefined;
  private readonly exited = new Promise<number | null>((resolve) => (this.onExit = resolve));
  reloads = 0;
  readonly conf: string;
  readonly certDir: string;
  readonly pidFile: string;

  constructor(private readonly o: NginxOptions) {
    this.conf = join(o.confDir, 'nginx.conf');
    this.certDir = join(o.confDir, 'certs');
    this.pidFile = join(o.confDir, 'nginx.pid');
  }

  /** Creates the directories and the default (self-signed) certificate, as ingress-nginx's fake one. */
  async prepare(): Promise<void> {
    await mkdir(this.certDir, { recursive: true, mode: 0o700 });
    const def = join(this.certDir, 'default.pem');
    if (existsSync(def)) return;
    const keyFile = join(this.certDir, 'default.key.tmp');
    const crtFile = join(this.certDir, 'default.crt.tmp');
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-subj', '/O=Acme Co/CN=Kubernetes Ingress Controller Fake Certificate', '-keyout', keyFile, '-out', crtFile]);
    const pem = `${await readFile(crtFile, 'utf8')}${await readFile(keyFile, 'utf8')}`;
    await writeFile(def, pem, { mode: 0o600 });
    await rm(keyFile, { force: true });
    await rm(crtFile, { force: true });
  }

  /** Writes the certificate files that differ; removes the ones no longer used. */
  async syncCertificates(certs: readonly { key: string; pem: string }[], previous: Map<string, string>): Promise<void> {
    for (const c of certs) {
      if (previous.get(c.key) === c.pem) continue;
      const file = join(this.certDir, `${c.key}.pem`);
      await writeFile(`${file}.tmp`, c.pem, { mode: 0o600 });
      await rename(`${file}.tmp`, file);
      previous.set(c.key, c.pem);
    }
    const keep = new Set(certs.map((c) => c.key));
    for (const key of [...previous.keys()]) {
      if (keep.has(key)) continue;
      previous.delete(key);
      await rm(join(this.certDir, `${key}.pem`), { force: true });
    }
  }

  /** `nginx -t` on `text`; throws NginxConfigError with nginx's words when it is refused. */
  async test(text: string): Promise<void> {
    const file = join(this.o.confDir, 'nginx.conf.test');
    await writeFile(file, text);
    try {
      await run(this.o.binary, ['-t', '-q', '-c', file], { timeout: 30_000 });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new NginxConfigError(e.stderr || e.message);
    }
  }

  /** Installs `text` (already tested) and starts nginx, or reloads it gracefully when running. */
  async apply(text: string): Promise<void> {
    await writeFile(`${this.conf}.tmp`, text);
    await rename(`${this.conf}.tmp`, this.conf);
    if (!this.child) return this.start();
    this.child.kill('SIGHUP');
    this.reloads++;
  }

  private async start(): Promise<void> {
    const child = spawn(this.o.binary, ['-c', this.conf, '-g', 'daemon off;'], { stdio: ['ignore', 'inherit', 'pipe'] });
    this.child = child;
    child.stderr?.on('data', (b: Buffer) => {
      for (const line of b.toString().split('\n')) if (line.trim()) this.o.logger.warn({ nginx: line.trim() }, 'nginx');
    });
    child.once('exit', (code) => this.onExit(code));
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', reject);
    });
  }

  /** Resolves with nginx's exit code when it exits (never, while it runs). */
  whenExited(): Promise<number | null> {
    return this.exited;
  }

  running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Graceful stop (SIGQUIT: finish the requests in flight), SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    const child = this.child;
    if (!child || !this.running()) return;
    child.kill('SIGQUIT');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
