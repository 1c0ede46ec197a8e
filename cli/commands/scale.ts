/** `kubelab scale deployment/NAME --replicas N` (also replicasets and statefulsets), through the scale subresource. */
import type { Command } from 'commander';
import { scaleWorkload, SCALABLE_RESOURCES } from '../../client/actions.js';
import { ApiError } from '../../api/errors.js';
import { findResource } from '../../api/resources.js';
import { cliClient, CliError } from '../context.js';


export function register(program: Command): void {
  program
    .command('scale')
    .description('Set a new size for a deployment, replica set or stateful set (kubectl scale)')
    .argument('<target...>', 'TYPE/NAME or TYPE NAME')
    .requiredOption('--replicas <n>', 'the new number of replicas')
    .option('--current-replicas <n>', 'only scale if the current size is this')
    .action(async (args: string[], opts: { replicas: string; currentReplicas?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<{ server?: string; namespace?: string }>();
      const client = cliClient(g);
      const namespace = g.namespace ?? 'default';
      const replicas = Number(opts.replicas);
      if (!Number.isInteger(replicas) || replicas < 0) throw new CliError(`--replicas: "${opts.replicas}" must be an integer >= 0`);
      let [type, name] = args;
      if (type?.includes('/')) [type, name] = type.split('/', 2);
      const info = type ? findResource(type) : undefined;
      if (!info || !SCALABLE_RESOURCES.has(info.resource)) throw new CliError(`cannot scale "${type}": expected deployment, replicaset or statefulset`);
      if (!name) throw new CliError('expected TYPE/NAME');
      try {
        await scaleWorkload(client, info.resource, namespace, name, replicas, opts.currentReplicas !== undefined ? Number(opts.currentReplicas) : undefined);
      } catch (err) {
        if (err instanceof ApiError && err.reason === 'Conflict' && opts.currentReplicas !== undefined) throw new CliError(err.message);
        throw err;
      }
      process.stdout.write(`${info.singular}.${info.group || 'core'}/${name} scaled\n`.replace('.core/', '/'));
    });
}
