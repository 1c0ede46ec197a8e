/** `kubelab delete TYPE NAME... | TYPE -l SEL | -f FILE` with --cascade and --grace-period. */
import type { Command } from 'commander';
import { isNotFound } from '../../api/errors.js';
import type { ResourceInfo } from '../../api/resources.js';
import { cliClient, CliError } from '../context.js';
import { kindRef, loadManifests, manifestResource, parseTargets } from '../util.js';

const CASCADE: Record<string, 'Background' | 'Foreground' | 'Orphan'> = { background: 'Background', foreground: 'Foreground', orphan: 'Orphan', true: 'Background', false: 'Orphan' };

export function register(program: Command): void {
  program
    .command('delete')
    .description('Delete resources by name, label selector or manifest (kubectl delete)')
    .argument('[type...]', 'TYPE NAME... | TYPE/NAME...')
    .option('-f, --filename <path...>', 'manifest files or directories')
    .option('-l, --selector <selector>', 'delete every object matching the label selector')
    .option('--all', 'delete every object of the type in the namespace')
    .option('--cascade <mode>', 'background | foreground | orphan', 'background')
    .option('--grace-period <seconds>', 'seconds the pod gets to stop (0 = immediately)')
    .option('--ignore-not-found', 'treat "not found" as success')
    .action(async (args: string[], opts: { filename?: string[]; selector?: string; all?: boolean; cascade: string; gracePeriod?: string; ignoreNotFound?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<{ server?: string; namespace?: string }>();
      const client = cliClient(g);
      const propagationPolicy = CASCADE[opts.cascade];
      if (!propagationPolicy) throw new CliError(`--cascade: "${opts.cascade}" must be one of background, foreground, orphan`);
      const gracePeriodSeconds = opts.gracePeriod === undefined ? undefined : Number(opts.gracePeriod);
      if (gracePeriodSeconds !== undefined && !(gracePeriodSeconds >= 0)) throw new CliError(`--grace-period: "${opts.gracePeriod}" must be a number of seconds >= 0`);
      const targets: { info: ResourceInfo; name: string; namespace: string }[] = [];
      if (opts.filename) {
        for (const { source, obj } of loadManifests(opts.filename)) {
          const info = manifestResource(obj, source);
          targets.push({ info, name: obj.metadata?.name ?? '', namespace: info.namespaced ? (obj.metadata?.namespace ?? g.namespace ?? 'default') : '' });
        }
      } else {
        for (const { info, names } of parseTargets(args)) {
          const namespace = info.namespaced ? (g.namespace ?? 'default') : '';
          if (names.length) for (const name of names) targets.push({ info, name, namespace });
          else if (opts.selector || opts.all) {
            const list = await client.list(info.resource, { namespace, labelSelector: opts.selector });
            for (const o of list.items) targets.push({ info, name: o.metadata?.name ?? '', namespace });
          } else throw new CliError('resource(s) were provided, but no name was specified (use a name, -l SELECTOR or --all)');
        }
      }
      if (targets.length === 0) process.stderr.write('No resources found\n');
      let failed = false;
      for (const t of targets) {
        try {
          await client.delete(t.info.resource, t.name, { namespace: t.namespace, propagationPolicy, gracePeriodSeconds });
          process.stdout.write(`${kindRef(t.info, t.name)} deleted\n`);
        } catch (err) {
          if (isNotFound(err) && opts.ignoreNotFound) continue;
          failed = true;
          process.stderr.write(`Error from server (${isNotFound(err) ? 'NotFound' : 'Error'}): ${err instanceof Error ? err.message : String(err)}\n`);
        }
      }
      if (failed) process.exitCode = 1;
    });
}
