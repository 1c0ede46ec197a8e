/** ingress component entry: an nginx ingress controller (flags → config → startIngressController), until SIGTERM. */
import { Command } from 'commander';
import { createLogger } from '../client/log.js';
import { durationFlag, intFlag, runUntilSignal } from '../client/process.js';
import { compileIngressConfig } from './config.js';
import { startIngressController } from './controller.js';

export async function main(argv: string[]): Promise<void> {
  const cmd = new Command('ingress')
    .description('kubelab ingress controller: serves networking.k8s.io/v1 Ingresses of its IngressClass with a real nginx')
    .option('--apiserver <host:port>', 'apiserver gRPC address (env KUBELAB_APISERVER)')
    .option('--controller-class <value>', 'spec.controller of the IngressClasses served', 'k8s.io/ingress-nginx')
    .option('--ingress-class <name>', 'IngressClass to create at start when absent ("" = none)', 'nginx')
    .option('--default-class', 'mark that IngressClass as the cluster default (ingressclass.kubernetes.io/is-default-class)')
    .option('--publish-status-address <address>', 'address written to the status of served Ingresses (default: first non-loopback IPv4)')
    .option('--http-port <port>', 'nginx HTTP port', intFlag('--http-port'))
    .option('--https-port <port>', 'nginx HTTPS port', intFlag('--https-port'))
    .option('--min-sync-period <duration>', 'debounce between a change and the nginx sync', durationFlag('--min-sync-period'))
    .option('--sync-period <duration>', 'full resync period', durationFlag('--sync-period'))
    .option('--admin-port <port>', 'healthz/metrics port (-1: off)', intFlag('--admin-port'))
    .option('--nginx <binary>', 'nginx binary', 'nginx')
    .option('--conf-dir <dir>', 'where nginx.conf and the certificates are written', '/etc/nginx/kubelab')
    .option('--worker-processes <n>', 'nginx worker processes or "auto"', 'auto')
    .exitOverride();
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts<Record<string, unknown>>();
  const cfg = compileIngressConfig({
    apiserver: o.apiserver as string | undefined,
    controllerClass: o.controllerClass as string | undefined,
    ingressClass: o.ingressClass as string | undefined,
    defaultClass: o.defaultClass === true,
    publishStatusAddress: o.publishStatusAddress as string | undefined,
    httpPort: o.httpPort as number | undefined,
    httpsPort: o.httpsPort as number | undefined,
    minSyncPeriodMs: o.minSyncPeriod as number | undefined,
    syncPeriodMs: o.syncPeriod as number | undefined,
    adminPort: o.adminPort as number | undefined,
    nginxBinary: o.nginx as string | undefined,
    confDir: o.confDir as string | undefined,
    workerProcesses: o.workerProcesses as string | undefined,
  });
  const log = createLogger('ingress');
  await runUntilSignal(log, async (signal) => {
    const running = await startIngressController(cfg, signal, { logger: log });
    // nginx is the data plane: without it this process serves nothing, so it ends (and is restarted).
    void running.failed().then((err) => {
      if (signal.aborted) return;
      log.fatal({ err: err.message }, 'nginx exited; stopping');
      process.exit(1);
    });
  });
}
