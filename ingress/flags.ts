/** The ingress controller's flags, declared once: commander's options and `IngressOptions` both come from here. */
import { CLIENT_TLS_FLAGS } from '../component-base/tls.js';
import { boolFlag, durationFlag, intFlag, stringFlag, type FlagsFor } from '../component-base/flags.js';
import type { IngressOptions } from './config.js';

export const INGRESS_FLAGS = {
  ...CLIENT_TLS_FLAGS,
  apiserver: stringFlag('--apiserver <host:port>', 'apiserver gRPC address', { env: 'KUBELAB_APISERVER' }),
  controllerClass: stringFlag('--controller-class <value>', 'spec.controller of the IngressClasses served (default k8s.io/ingress-nginx)'),
  ingressClass: stringFlag('--ingress-class <name>', 'IngressClass to create at start when absent ("" = none; default nginx)'),
  defaultClass: boolFlag('--default-class', 'mark that IngressClass as the cluster default (ingressclass.kubernetes.io/is-default-class)'),
  publishStatusAddress: stringFlag('--publish-status-address <address>', 'address written to the status of served Ingresses (default: first non-loopback IPv4)'),
  httpPort: intFlag('--http-port <port>', 'nginx HTTP port (default 80)'),
  httpsPort: intFlag('--https-port <port>', 'nginx HTTPS port (default 443)'),
  minSyncPeriodMs: durationFlag('--min-sync-period <duration>', 'debounce between a change and the nginx sync (default 100ms)'),
  syncPeriodMs: durationFlag('--sync-period <duration>', 'full resync period (default 1m)'),
  adminPort: intFlag('--admin-port <port>', 'healthz/metrics port (-1: off; default 10254)'),
  nginxBinary: stringFlag('--nginx <binary>', 'nginx binary (default nginx)'),
  confDir: stringFlag('--conf-dir <dir>', 'where nginx.conf and the certificates are written (default /etc/nginx/kubelab)'),
  workerProcesses: stringFlag('--worker-processes <n>', 'nginx worker processes or "auto" (default auto)'),
} satisfies FlagsFor<IngressOptions>;
