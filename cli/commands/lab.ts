/** `kubelab lab up|down|status`: the compose lab in this checkout (docker-compose.yml). */
import type { Command } from 'commander';
import Docker from 'dockerode';
import { labDown, labUp, nextSteps, phasesTable } from '../lab/compose.js';
import { Lab } from '../lab/lab.js';
import { statusReport } from '../lab/status.js';
import { cliClient, CliError, findLabInfo } from '../context.js';

const out = (line: string): void => {
  process.stdout.write(line.endsWith('\n') ? line : `${line}\n`);
};

/** The cluster the lab/node commands act on: --cluster, $KUBELAB_CLUSTER, .kubelab/kubelab.json, else kubelab. */
export function clusterName(flag?: string): string {
  return flag ?? process.env.KUBELAB_CLUSTER ?? findLabInfo()?.info.cluster ?? 'kubelab';
}

export function register(program: Command): void {
  const lab = program.command('lab').description('Run the multi-node lab in Docker (docker-compose.yml in this checkout)');

  lab
    .command('up')
    .description('Set up the host if needed, build missing images, start the lab and wait until every node is Ready')
    .option('--workers <n>', 'number of worker nodes', '3')
    .option('--skip-images', 'do not run deploy/build-images.sh')
    .option('--ha', 'a highly available control plane: 3 etcd members, 2 apiservers behind an HAProxy load balancer (docs/lab.md)')
    .option('--multihost', 'the pod network as a Docker Swarm overlay, for workers on other Docker engines: kubelab node add --host URL (docs/multihost.md)')
    .option('--timeout <seconds>', 'give up waiting for Ready nodes after this long', '180')
    .option('--verbose', 'print where the time went, phase by phase')
    .action(async (opts: { workers: string; skipImages?: boolean; ha?: boolean; multihost?: boolean; timeout: string; verbose?: boolean }) => {
      const workers = Number(opts.workers);
      if (!Number.isInteger(workers) || workers < 1) throw new CliError(`--workers: "${opts.workers}" must be a positive integer`);
      const timeout = Number(opts.timeout);
      if (!Number.isFinite(timeout) || timeout <= 0) throw new CliError(`--timeout: "${opts.timeout}" must be a number of seconds`);
      const res = await labUp({ workers, skipImages: opts.skipImages, ha: opts.ha, multihost: opts.multihost, timeoutMs: timeout * 1000, say: out });
      if (opts.verbose) out(phasesTable(res.phases, res.seconds));
      out(nextSteps(res.kubeconfigPath, opts.ha));
    });

  lab
    .command('down')
    .description('Remove the lab: every container (also pods), volume and the network')
    .action(async () => {
      await labDown(out);
    });

  lab
    .command('status')
    .description('Nodes (Ready/NotReady), pods per node, and the health of every lab container')
    .option('--cluster <name>', 'lab cluster name (default: the lab in this checkout)')
    .action(async (opts: { cluster?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<{ server?: string; namespace?: string }>();
      const l = await Lab.fromDocker(clusterName(opts.cluster), new Docker()).catch((err: unknown) => {
        throw new CliError(err instanceof Error ? err.message : String(err));
      });
      out(await statusReport(l, cliClient(g)));
    });
}
