/** Flags of the dashboard component (the process entry that adds the lab's node faults is cli/dashboard-main.ts). */
import { Command } from 'commander';
import { intFlag, durationFlag } from '../client/process.js';
import { compileDashboardConfig, type DashboardConfig } from './config.js';

export function dashboardFlags(cmd: Command): Command {
  return cmd
    .option('--apiserver <host:port>', 'apiserver gRPC address', process.env.KUBELAB_APISERVER)
    .option('--port <port>', 'HTTP + WebSocket port', intFlag('--port'))
    .option('--bind-address <ip>', 'address to listen on')
    .option('--read-only', 'no action buttons')
    .option('--scheduler-admin-port <port>', "the scheduler replicas' admin port (its leader serves /debug/attempts)", intFlag('--scheduler-admin-port'))
    .option('--flush-interval <duration>', 'how often changes are pushed to browsers', durationFlag('--flush-interval'));
}

export function dashboardConfig(o: Record<string, unknown>): DashboardConfig {
  return compileDashboardConfig({
    apiserver: o.apiserver as string | undefined,
    port: o.port as number | undefined,
    bindAddress: o.bindAddress as string | undefined,
    readOnly: o.readOnly as boolean | undefined,
    schedulerAdminPort: o.schedulerAdminPort as number | undefined,
    flushIntervalMs: o.flushInterval as number | undefined,
  });
}
