/**
 * kubelab `pki` component: makes (once) and renews the compose lab's cluster PKI in a directory, for a bare
 * `docker compose up` — the `pki` service runs it before every other service starts. `kubelab lab up`
 * does the same on the host first, so there the service finds everything current and exits at once.
 */
import { Command } from 'commander';
import { createLogger } from '../component-base/log.js';
import { ensurePki } from '../client/pki/pki.js';
import { composeLabSpec, labPki, workerIp, workerName } from '../cli/lab/spec.js';

export async function main(argv: string[]): Promise<void> {
  const cmd = new Command('pki')
    .description('issue and renew the compose lab certificates (CA, components, workers, admin)')
    .requiredOption('--dir <dir>', 'PKI directory (kubeadm layout: ca.crt, apiserver.crt, nodes/<node>/…)')
    .option('--workers <n>', 'workers worker-1..N to issue certificates for', (v: string) => Number(v), 3)
    .exitOverride();
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts<{ dir: string; workers: number }>();
  if (!Number.isInteger(o.workers) || o.workers < 0 || o.workers > 230) throw new Error(`--workers: ${o.workers} must be between 0 and 230`);
  const spec = composeLabSpec();
  const nodes = Array.from({ length: o.workers }, (_, i) => ({ name: workerName(i + 1), ip: workerIp(spec, i + 1) }));
  const res = await ensurePki(o.dir, labPki(spec, nodes));
  createLogger('pki').info({ dir: o.dir, created: res.created.length, renewed: res.renewed.length, kept: res.kept.length }, 'certificates current');
}
