/** The dashboard's flags, declared once (the process entry that adds the lab's node faults is cmd/dashboard.ts). */
import { CLIENT_TLS_FLAGS } from '../component-base/tls.js';
import { boolFlag, durationFlag, intFlag, stringFlag, type FlagsFor } from '../component-base/flags.js';
import type { DashboardOptions } from './config.js';

export const DASHBOARD_FLAGS = {
  ...CLIENT_TLS_FLAGS,
  apiserver: stringFlag('--apiserver <host:port>', 'apiserver gRPC address', { env: 'KUBELAB_APISERVER' }),
  port: intFlag('--port <port>', 'HTTP + WebSocket port (default 8080)'),
  bindAddress: stringFlag('--bind-address <ip>', 'address to listen on (default 0.0.0.0)'),
  readOnly: boolFlag('--read-only', 'no action buttons'),
  schedulerAdminPort: intFlag('--scheduler-admin-port <port>', "the scheduler replicas' admin port (its leader serves /debug/attempts)"),
  flushIntervalMs: durationFlag('--flush-interval <duration>', 'how often changes are pushed to browsers (default 50ms)'),
} satisfies FlagsFor<DashboardOptions>;
