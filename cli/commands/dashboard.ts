/** `kubelab dashboard [--open]`: prints the URL of the lab's dashboard (docs/dashboard.md), and opens it in a browser. */
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import Docker from 'dockerode';
import { CliError } from '../context.js';
import { hostPort } from '../lab/docker.js';
import { Lab } from '../lab/lab.js';
import { PORTS } from '../lab/spec.js';
import { clusterName } from './lab.js';

export function register(program: Command): void {
  program
    .command('dashboard')
    .description("Print the lab dashboard's URL (live nodes, pods, countdowns, timeline, actions); --open opens a browser")
    .option('--cluster <name>', 'lab cluster name (default: $KUBELAB_CLUSTER, the lab in this checkout, or kubelab)')
    .option('--open', 'open it with xdg-open / open')
    .action(async (opts: { cluster?: string; open?: boolean }) => {
      const cluster = clusterName(opts.cluster);
      const lab = await Lab.fromDocker(cluster, new Docker()).catch((err: unknown) => {
        throw new CliError(err instanceof Error ? err.message : String(err));
      });
      const c = (await lab.componentContainers('dashboard'))[0];
      if (!c) throw new CliError(`cluster ${cluster} has no dashboard container: start the lab with npm run lab (test clusters: startCluster({ dashboard: true }))`);
      if (c.State !== 'running') throw new CliError(`the dashboard container of ${cluster} is ${c.State}: docker start ${c.Names[0]?.replace(/^\//, '') ?? c.Id}`);
      const port = hostPort(await lab.docker.getContainer(c.Id).inspect(), PORTS.dashboard);
      if (!port) throw new CliError(`the dashboard container of ${cluster} publishes no port ${PORTS.dashboard}`);
      const url = `http://localhost:${port}`;
      process.stdout.write(`${url}\n`);
      if (opts.open) {
        const opener = process.platform === 'darwin' ? 'open' : 'xdg-open';
        const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
        child.on('error', () => process.stderr.write(`could not run ${opener}; open ${url} in a browser\n`));
        child.unref();
      }
    });
}
