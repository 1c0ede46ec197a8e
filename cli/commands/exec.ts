/** `kubelab exec [-i] [-t] POD [-c C] -- CMD...`: run a command in a container; exits with its exit code. */
import type { Command } from 'commander';
import { cliClient, CliError } from '../context.js';

export function register(program: Command): void {
  program
    .command('exec')
    .description('Execute a command in a container (kubectl exec)')
    .argument('<pod>', 'pod name (or pod/NAME)')
    .argument('<command...>', 'the command and its arguments (after --)')
    .option('-c, --container <name>', 'container name (default: the only container)')
    .option('-i, --stdin', 'pass stdin to the command')
    .option('-t, --tty', 'allocate a TTY')
    .action(async (podArg: string, command: string[], opts: { container?: string; stdin?: boolean; tty?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<{ server?: string; namespace?: string }>();
      const pod = podArg.replace(/^(pods?|po)\//, '');
      if (command.length === 0) throw new CliError('you must specify at least one command for the container');
      const stdin = opts.stdin === true;
      const rawTty = opts.tty === true && stdin && process.stdin.isTTY === true;
      const session = cliClient(g).exec(g.namespace ?? 'default', pod, command, { container: opts.container, stdin, tty: opts.tty === true });
      session.onStdout((b) => process.stdout.write(b));
      session.onStderr((b) => process.stderr.write(b));
      const onData = (b: Buffer): void => session.write(b);
      const onEnd = (): void => session.closeStdin();
      const onResize = (): void => session.resize(process.stdout.rows ?? 24, process.stdout.columns ?? 80);
      if (stdin) {
        if (rawTty) {
          process.stdin.setRawMode(true);
          onResize();
          process.stdout.on('resize', onResize);
        }
        process.stdin.on('data', onData);
        process.stdin.once('end', onEnd);
        process.stdin.resume();
      }
      try {
        const code = await session.exit;
        process.exitCode = code;
      } finally {
        if (stdin) {
          process.stdin.off('data', onData);
          process.stdin.off('end', onEnd);
          process.stdin.pause();
          if (rawTty) {
            process.stdin.setRawMode(false);
            process.stdout.off('resize', onResize);
          }
        }
      }
    });
}
