/**
 * The test etcd dies with the process that started it, even when that process gets SIGKILL (a vitest
 * worker killed on a timeout runs no exit handler): orphaned etcds were found after such runs, holding
 * ports and temp dirs. Started from the compiled helper in a child process, as a vitest worker would.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { waitFor } from './support/wait.js';

const HELPER = fileURLToPath(new URL('../dist/test/support/etcd.js', import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('test etcd', () => {
  it('is gone when the process that started it is SIGKILLed', async () => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', `const { startEtcd } = await import(${JSON.stringify(HELPER)}); const e = await startEtcd(); console.log(e.pid); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => resolve(Number(b.toString().trim())));
      child.on('exit', (code) => reject(new Error(`the helper exited with ${code} before starting etcd`)));
    });
    expect(alive(pid)).toBe(true);
    child.kill('SIGKILL');
    await waitFor(() => !alive(pid), { timeoutMs: 10_000, intervalMs: 50, what: `etcd (pid ${pid}) to die with its parent` });
  });
});
