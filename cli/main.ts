/** `kubelab`: the CLI. Each command lives in cli/commands/<name>.ts and registers itself. */
import { Command, CommanderError } from 'commander';
import { ApiError } from '../api/errors.js';
import { CliError, closeCliClient, serverAddress } from './context.js';
import { registerAll } from './commands/index.js';

/**
 * grpc-js names the TLS server after the target host, and for `127.0.0.1:7443` Node then warns on every
 * command that an IP address is not a valid SNI name (DEP0123); the certificate is still checked against
 * the address. That one warning is dropped from the CLI's output; every other warning prints as before.
 */
function quietSniWarning(): void {
  const printers = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('warning', (w: Error & { code?: string }) => {
    if (w.code === 'DEP0123') return;
    for (const print of printers) print(w);
  });
}

export async function runCli(argv: string[]): Promise<number> {
  quietSniWarning();
  const program = new Command('kubelab')
    .description('kubelab: a Kubernetes-style lab cluster on one machine')
    .option('-s, --server <host:port>', 'apiserver gRPC address (default: the lab in this checkout, or 127.0.0.1:7443)')
    .option('-n, --namespace <ns>', 'namespace', undefined)
    .showHelpAfterError()
    .exitOverride();
  registerAll(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof CliError) process.stderr.write(`error: ${err.message}\n`);
    else if (err instanceof ApiError && (err.reason === 'ServiceUnavailable' || (err.reason === 'Timeout' && /wait_for_ready|LB pick/.test(err.message)))) {
      process.stderr.write(
        `error: cannot reach the apiserver at ${serverAddress(program.opts<{ server?: string }>().server)}.\n` +
          'Is the lab running? Start it with `npm run lab`, or pass --server host:port.\n',
      );
    } else if (err instanceof ApiError) process.stderr.write(`Error from server (${err.reason}): ${err.message}\n`); else process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    closeCliClient();
  }
}
