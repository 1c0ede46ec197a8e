/** `kubelab logs [-f] [-c C] [--previous] [--tail N] POD`: a container's log through pods/log. */
import type { Command } from 'commander';
import { cliClient, CliError } from '../context.js';

export function register(program: Command): void {
  program
    .command('logs')
    .description('Print the logs of a container in a pod (kubectl logs)')
    .argument('<pod>', 'pod name (or pod/NAME)')
    .option('-c, --container <name>', 'container name (default: the only container)')
    .option('-f, --follow', 'stream new lines as they are written')
    .option('-p, --previous', 'the previous, terminated instance of the container')
    .option('--tail <n>', 'lines from the end to show (-1: all)', '-1')
    .option('--timestamps', 'prefix each line with its timestamp')
    .option('--since <seconds>', 'only lines newer than this many seconds')
    .action(async (podArg: string, opts: { container?: string; follow?: boolean; previous?: boolean; tail: string; timestamps?: boolean; since?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<{ server?: string; namespace?: string }>();
      const pod = podArg.replace(/^(pods?|po)\//, '');
      const tail = Number(opts.tail);
      if (!Number.isInteger(tail)) throw new CliError(`--tail: "${opts.tail}" is not an integer`);
      const since = opts.since !== undefined ? Number(opts.since) : 0;
      if (!Number.isFinite(since) || since < 0) throw new CliError(`--since: "${opts.since}" is not a number of seconds`);
      const ctl = new AbortController();
      const stop = (): void => ctl.abort();
      process.once('SIGINT', stop);
      try {
        for await (const chunk of cliClient(g).logs(g.namespace ?? 'default', pod, {
          container: opts.container,
          follow: opts.follow === true,
          previous: opts.previous === true,
          tailLines: tail,
          timestamps: opts.timestamps === true,
          sinceSeconds: since,
          signal: ctl.signal,
        })) {
          if (!process.stdout.write(chunk)) await new Promise((r) => process.stdout.once('drain', r));
        }
      } finally {
        process.off('SIGINT', stop);
      }
    });
}
