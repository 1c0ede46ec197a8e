/** Ingress controller options (flags/env) → validated config with every default filled; durations in ms. */
import { loadClientTls, type ClientTls, type ClientTlsOptions } from '../component-base/tls.js';
import { networkInterfaces } from 'node:os';
import { DEFAULT_CONTROLLER } from './model.js';

export interface IngressOptions extends ClientTlsOptions {
  /** apiserver gRPC address host:port. */
  apiserver?: string;
  /** spec.controller of the IngressClasses served (ingress-nginx: --controller-class). */
  controllerClass?: string;
  /** IngressClass created at start when absent ('' = none); ingress-nginx: --ingress-class. */
  ingressClass?: string;
  /** Mark the created IngressClass as the cluster default. */
  defaultClass?: boolean;
  /** Address written to status.loadBalancer of served Ingresses (default: first non-loopback IPv4). */
  publishStatusAddress?: string;
  httpPort?: number;
  httpsPort?: number;
  /** Debounce between a change and the sync it triggers (≤ 1 s: backends follow within a second). */
  minSyncPeriodMs?: number;
  syncPeriodMs?: number;
  adminPort?: number;
  nginxBinary?: string;
  confDir?: string;
  /** nginx worker processes, or 'auto'. */
  workerProcesses?: string;
}

export interface IngressConfig {
  /** TLS to the apiserver (CA + client certificate); none: plain gRPC. */
  tls?: ClientTls;
  apiserver: string;
  controllerClass: string;
  ingressClass: string;
  defaultClass: boolean;
  publishStatusAddress: string;
  httpPort: number;
  httpsPort: number;
  minSyncPeriodMs: number;
  syncPeriodMs: number;
  adminPort: number;
  nginxBinary: string;
  confDir: string;
  workerProcesses: number | 'auto';
}

/** Thrown for an invalid option; the message names the flag. */
export class IngressConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IngressConfigError';
  }
}

function port(flag: string, v: number | undefined, def: number): number {
  const p = v ?? def;
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw new IngressConfigError(`${flag}: must be a port number 1-65535 (got ${String(v)})`);
  return p;
}

export function firstIPv4(): string {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}

export function compileIngressConfig(o: IngressOptions = {}): IngressConfig {
  const apiserver = o.apiserver ?? process.env.KUBELAB_APISERVER ?? '127.0.0.1:7443';
  if (!/^[^:\s]+:\d+$/.test(apiserver)) throw new IngressConfigError(`--apiserver: "${apiserver}" is not host:port`);
  const controllerClass = o.controllerClass ?? DEFAULT_CONTROLLER;
  if (!/^[a-z0-9.-]+\/[A-Za-z0-9/\-._~]+$/.test(controllerClass))
    throw new IngressConfigError(`--controller-class: "${controllerClass}" is not a domain-prefixed path (such as "k8s.io/ingress-nginx")`);
  const ingressClass = o.ingressClass ?? 'nginx';
  if (ingressClass !== '' && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(ingressClass))
    throw new IngressConfigError(`--ingress-class: "${ingressClass}" is not a DNS subdomain name`);
  const publishStatusAddress = o.publishStatusAddress ?? firstIPv4();
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(publishStatusAddress) && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(publishStatusAddress))
    throw new IngressConfigError(`--publish-status-address: "${publishStatusAddress}" is neither an IPv4 address nor a DNS name`);
  const minSyncPeriodMs = o.minSyncPeriodMs ?? 100;
  if (minSyncPeriodMs < 0 || minSyncPeriodMs > 1000)
    throw new IngressConfigError(`--min-sync-period: must be between 0 and 1s so backends follow within a second (got ${minSyncPeriodMs} ms)`);
  const syncPeriodMs = o.syncPeriodMs ?? 60_000;
  if (syncPeriodMs < 1000) throw new IngressConfigError(`--sync-period: must be at least 1s (got ${syncPeriodMs} ms)`);
  const wp = o.workerProcesses ?? 'auto';
  let workerProcesses: number | 'auto' = 'auto';
  if (wp !== 'auto') {
    workerProcesses = Number(wp);
    if (!Number.isInteger(workerProcesses) || workerProcesses < 1 || workerProcesses > 64)
      throw new IngressConfigError(`--worker-processes: must be "auto" or a number 1-64 (got "${wp}")`);
  }
  const httpPort = port('--http-port', o.httpPort, 80);
  const httpsPort = port('--https-port', o.httpsPort, 443);
  if (httpPort === httpsPort) throw new IngressConfigError(`--https-port: must differ from --http-port (both ${httpPort})`);
  return {
    apiserver,
    tls: loadClientTls(o),
    controllerClass,
    ingressClass,
    defaultClass: o.defaultClass ?? false,
    publishStatusAddress,
    httpPort,
    httpsPort,
    minSyncPeriodMs,
    syncPeriodMs,
    adminPort: o.adminPort ?? 10254,
    nginxBinary: o.nginxBinary ?? 'nginx',
    confDir: o.confDir ?? '/etc/nginx/kubelab',
    workerProcesses,
  };
}
