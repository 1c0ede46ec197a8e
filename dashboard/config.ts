/** Dashboard options (flags/env) → validated config with every default filled. */
import { loadClientTls, type ClientTls, type ClientTlsOptions } from '../component-base/tls.js';

export interface DashboardOptions extends ClientTlsOptions {
  apiserver?: string;
  /** TLS to the apiserver, given directly (tests); else loaded from the --certificate-authority/--client-* files. */
  tls?: ClientTls;
  /** HTTP + WebSocket port of the dashboard (the lab publishes it as http://localhost:8080). */
  port?: number;
  bindAddress?: string;
  /** No action buttons, whatever the identity could do. */
  readOnly?: boolean;
  /** Admin port of the scheduler replicas (the leader serves `/debug/attempts`). */
  schedulerAdminPort?: number;
  /** How often batched changes are pushed to browsers (ms). */
  flushIntervalMs?: number;
  /** Events kept for the timeline (the newest). */
  maxEvents?: number;
  /** How often the dashboard asks the apiserver which of its API actions its identity may do (ms). */
  permissionCheckIntervalMs?: number;
}

export interface DashboardConfig {
  /** TLS to the apiserver (CA + client certificate); none: plain gRPC. */
  tls?: ClientTls;
  apiserver: string;
  port: number;
  bindAddress: string;
  readOnly: boolean;
  schedulerAdminPort: number;
  flushIntervalMs: number;
  maxEvents: number;
  permissionCheckIntervalMs: number;
}

/** Thrown for an invalid option; the message names the flag. */
export class DashboardConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DashboardConfigError';
  }
}

export function compileDashboardConfig(o: DashboardOptions = {}): DashboardConfig {
  const cfg: DashboardConfig = {
    apiserver: o.apiserver ?? process.env.KUBELAB_APISERVER ?? '127.0.0.1:7443',
    tls: o.tls ?? loadClientTls(o),
    port: o.port ?? 8080,
    bindAddress: o.bindAddress ?? '0.0.0.0',
    readOnly: o.readOnly ?? false,
    schedulerAdminPort: o.schedulerAdminPort ?? 10259,
    flushIntervalMs: o.flushIntervalMs ?? 50,
    maxEvents: o.maxEvents ?? 2000,
    permissionCheckIntervalMs: o.permissionCheckIntervalMs ?? 15_000,
  };
  if (!/^[^:\s]+:\d+$/.test(cfg.apiserver)) throw new DashboardConfigError(`--apiserver: "${cfg.apiserver}" is not host:port`);
  if (!Number.isInteger(cfg.port) || cfg.port < 0 || cfg.port > 65535) throw new DashboardConfigError(`--port: ${cfg.port} is not a port`);
  if (cfg.flushIntervalMs < 1) throw new DashboardConfigError('--flush-interval: must be at least 1ms');
  if (!(cfg.permissionCheckIntervalMs >= 100)) throw new DashboardConfigError('permissionCheckIntervalMs: must be at least 100 ms');
  return cfg;
}
