/**
 * kubelab `dashboard` component: the dashboard (dashboard/) plus the lab's node faults (cli/lab), so its
 * crash/partition/heal/restart buttons run exactly what `kubelab node …` runs. A launcher, like
 * cli/node-main.ts: the one place where the dashboard and the lab code meet, so neither imports the other.
 * Without the Docker socket (or without --cluster) the dashboard still serves, without node faults.
 */
import { existsSync } from 'node:fs';
import { Command } from 'commander';
import Docker from 'dockerode';
import { createLogger } from '../client/log.js';
import { runUntilSignal } from '../client/process.js';
import { dashboardConfig, dashboardFlags } from '../dashboard/main.js';
import { startDashboard, type NodeFaults } from '../dashboard/server.js';
import { Lab } from './lab/lab.js';

const DOCKER_SOCKET = '/var/run/docker.sock';

export async function main(argv: string[]): Promise<void> {
  const cmd = dashboardFlags(new Command('dashboard').description('kubelab dashboard: the live cluster view in a browser'))
    .option('--cluster <name>', 'lab cluster whose nodes the crash/partition/heal/restart buttons act on (needs the Docker socket)')
    .exitOverride();
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts<Record<string, unknown>>();
  const cfg = dashboardConfig(o);
  const log = createLogger('dashboard');
  const cluster = o.cluster as string | undefined;
  let nodeFaults: NodeFaults | undefined;
  let nodeFaultsUnavailable: string | undefined;
  if (!cluster) nodeFaultsUnavailable = 'node faults are off: the dashboard was started without --cluster';
  else if (!existsSync(DOCKER_SOCKET)) nodeFaultsUnavailable = `node faults are off: ${DOCKER_SOCKET} is not mounted into the dashboard`;
  else {
    const docker = new Docker();
    // Rebuilt per action: the lab's containers change (node add/remove) while the dashboard runs.
    const lab = (): Promise<Lab> => Lab.fromDocker(cluster, docker);
    nodeFaults = {
      crash: async (n) => (await lab()).crash(n),
      partition: async (n) => (await lab()).partition(n),
      heal: async (n) => (await lab()).heal(n),
      restart: async (n) => (await lab()).restart(n),
    };
  }
  await runUntilSignal(log, async (signal) => {
    const running = await startDashboard(cfg, signal, { logger: log, nodeFaults, nodeFaultsUnavailable });
    await running.done;
  });
}
