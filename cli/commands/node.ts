/**
 * `kubelab node crash|partition|heal|restart|add|remove|cordon|uncordon|drain`: fault injection on the lab's worker
 * containers (cli/lab/lab.ts has the fault model). Acts on the lab in this checkout, or on the
 * cluster named by --cluster / $KUBELAB_CLUSTER (e.g. a test cluster).
 */
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import Docker from 'dockerode';
import type { ApiClient } from '../../client/api.js';
import { drainNode, setUnschedulable } from '../../client/actions.js';
import { HostError } from '../lab/hosts.js';
import { Lab, LabError } from '../lab/lab.js';
import { cliClient, CliError, findLabInfo } from '../context.js';
import { clusterName } from './lab.js';

type Globals = { server?: string; namespace?: string };

/**
 * Where the cluster's PKI is kept, for certificates of nodes added at runtime: $KUBELAB_PKI_DIR (a test
 * cluster's `pkiDir`), else the lab of this checkout (kubelab.json's pkiDir) when it is that cluster.
 */
function labPkiDir(cluster: string): string | undefined {
  if (process.env.KUBELAB_PKI_DIR) return process.env.KUBELAB_PKI_DIR;
  const lab = findLabInfo();
  if (lab?.info.pkiDir && lab.info.cluster === cluster) return resolve(dirname(lab.path), lab.info.pkiDir);
  return undefined;
}

export async function withLab(opts: { cluster?: string }, fn: (lab: Lab) => Promise<string>): Promise<void> {
  try {
    const cluster = clusterName(opts.cluster);
    const lab = await Lab.fromDocker(cluster, new Docker(), labPkiDir(cluster));
    process.stdout.write(`${await fn(lab)}\n`);
  } catch (err) {
    if (err instanceof LabError || err instanceof HostError) throw new CliError(err.message);
    throw err;
  }
}

export function register(program: Command): void {
  const node = program.command('node').description('Break and repair lab nodes: crash, partition, heal, restart, add, remove');
  const cluster = (c: Command): Command => c.option('--cluster <name>', 'lab cluster name (default: $KUBELAB_CLUSTER, the lab in this checkout, or kubelab)');

  cluster(node.command('crash').description('Power loss: SIGKILL the node container and all of its pod containers at once'))
    .argument('<node>')
    .action(async (name: string, opts: { cluster?: string }) => {
      await withLab(opts, async (lab) => {
        await lab.crash(name);
        return `node/${name} crashed`;
      });
    });

  cluster(node.command('partition').description('Cut the node off from the control plane; its pods keep running'))
    .argument('<node>')
    .action(async (name: string, opts: { cluster?: string }) => {
      await withLab(opts, async (lab) => {
        await lab.partition(name);
        return `node/${name} partitioned`;
      });
    });

  cluster(node.command('heal').description('Reconnect a partitioned node (its kubelet then removes pods replaced elsewhere)'))
    .argument('<node>')
    .action(async (name: string, opts: { cluster?: string }) => {
      await withLab(opts, async (lab) => {
        await lab.heal(name);
        return `node/${name} healed`;
      });
    });

  cluster(node.command('restart').description('Start a crashed node again (or restart a running one)'))
    .argument('<node>')
    .action(async (name: string, opts: { cluster?: string }) => {
      await withLab(opts, async (lab) => {
        await lab.restart(name);
        return `node/${name} restarted`;
      });
    });

  cluster(node.command('add').description('Start a new worker that joins the cluster (default name: the next worker-N)'))
    .argument('[name]')
    .option('--host <url>', 'on another Docker engine: tcp://HOST:2375 or ssh://USER@HOST (a lab made with --multihost; docs/multihost.md)')
    .action(async (name: string | undefined, opts: { cluster?: string; host?: string }) => {
      if (opts.host !== undefined && opts.host.trim() === '') throw new CliError('--host: empty; give a Docker URL (tcp://HOST:2375, ssh://USER@HOST) or leave the option out for this engine');
      const say = (line: string): void => void process.stderr.write(`[node add] ${line}\n`);
      await withLab(opts, async (lab) => `node/${await lab.addNode(name, { host: opts.host, say })} added${opts.host ? ` on ${opts.host}` : ''}`);
    });

  cluster(node.command('remove').description('Remove the node container, its pod containers and its Node object'))
    .argument('<node>')
    .action(async (name: string, opts: { cluster?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<Globals>();
      await withLab(opts, async (lab) => {
        await lab.removeNode(name, cliClient(g));
        return `node/${name} removed`;
      });
    });

  // API actions (no Docker): the same code the dashboard's buttons call (client/actions.ts).
  for (const [verb, desc, fn] of [
    ['cordon', 'Mark the node unschedulable (kubectl cordon)', (c: ApiClient, n: string) => setUnschedulable(c, n, true)],
    ['uncordon', 'Mark the node schedulable again (kubectl uncordon)', (c: ApiClient, n: string) => setUnschedulable(c, n, false)],
    ['drain', 'Cordon the node and evict its pods except DaemonSet pods, honouring disruption budgets (kubectl drain --ignore-daemonsets)', drainNode],
  ] as const) {
    node
      .command(verb)
      .description(desc)
      .argument('<node>')
      .action(async (name: string, _opts: unknown, cmd: Command) => {
        process.stdout.write(`${await fn(cliClient(cmd.optsWithGlobals<Globals>()), name)}\n`);
      });
  }
}
