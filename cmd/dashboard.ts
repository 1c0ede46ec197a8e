/**
 * kubelab `dashboard` component: the dashboard (dashboard/) plus the lab's node faults (cli/lab), so its
 * crash/partition/heal/restart buttons run exactly what `kubelab node …` runs. A launcher, like
 * cmd/node.ts: the one place where the dashboard and the lab code meet, so neither imports the other.
 * Without the Docker socket (or without --cluster) the dashboard still serves, without node faults.
 */
import { existsSync } from 'node:fs';
import Docker from 'dockerode';
import { stringFlag, type FlagValues } from '../component-base/flags.js';
import { runComponent, type ComponentSpec } from '../component-base/process.js';
import { compileDashboardConfig, type DashboardConfig } from '../dashboard/config.js';
import { DASHBOARD_FLAGS } from '../dashboard/flags.js';
import { startDashboard, type NodeFaults } from '../dashboard/server.js';
import { Lab } from '../cli/lab/lab.js';

const DOCKER_SOCKET = '/var/run/docker.sock';

export const DASHBOARD_COMPONENT_FLAGS = {
  ...DASHBOARD_FLAGS,
  cluster: stringFlag('--cluster <name>', 'lab cluster whose nodes the crash/partition/heal/restart buttons act on (needs the Docker socket)'),
};

interface DashboardProcessConfig {
  dashboard: DashboardConfig;
  cluster?: string;
}

/** The lab's node faults for the dashboard's buttons, or why there are none. */
function nodeFaultsFor(cluster: string | undefined): { nodeFaults?: NodeFaults; nodeFaultsUnavailable?: string } {
  if (!cluster) return { nodeFaultsUnavailable: 'node faults are off: the dashboard was started without --cluster' };
  if (!existsSync(DOCKER_SOCKET)) return { nodeFaultsUnavailable: `node faults are off: ${DOCKER_SOCKET} is not mounted into the dashboard` };
  const docker = new Docker();
  // Rebuilt per action: the lab's containers change (node add/remove) while the dashboard runs.
  const lab = (): Promise<Lab> => Lab.fromDocker(cluster, docker);
  return {
    nodeFaults: {
      crash: async (n) => (await lab()).crash(n),
      partition: async (n) => (await lab()).partition(n),
      heal: async (n) => (await lab()).heal(n),
      restart: async (n) => (await lab()).restart(n),
    },
  };
}

export const dashboardComponent: ComponentSpec<typeof DASHBOARD_COMPONENT_FLAGS, DashboardProcessConfig> = {
  name: 'dashboard',
  description: 'kubelab dashboard: the live cluster view in a browser',
  flags: DASHBOARD_COMPONENT_FLAGS,
  compile: ({ cluster, ...o }: FlagValues<typeof DASHBOARD_COMPONENT_FLAGS>) => ({ dashboard: compileDashboardConfig(o), ...(cluster ? { cluster } : {}) }),
  async start(config, signal, logger) {
    const running = await startDashboard(config.dashboard, signal, { logger, ...nodeFaultsFor(config.cluster) });
    await running.done;
  },
};

export function main(argv: string[]): Promise<void> {
  return runComponent(dashboardComponent, argv);
}
