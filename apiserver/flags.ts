/** The apiserver's flags, declared once: commander's options and `ApiserverOptions` both come from here. */
import { durationFlag, intFlag, stringFlag, type FlagsFor } from '../client/flags.js';
import type { ApiserverOptions } from './config.js';

export const APISERVER_FLAGS = {
  etcdServers: stringFlag('--etcd-servers <urls>', 'comma-separated etcd endpoints', { env: 'KUBELAB_ETCD_SERVERS' }),
  etcdPrefix: stringFlag('--etcd-prefix <prefix>', 'key prefix in etcd (default /registry)'),
  grpcPort: intFlag('--grpc-port <port>', 'gRPC API port'),
  httpPort: intFlag('--http-port <port>', 'Kubernetes REST API port (kubectl)'),
  adminPort: intFlag('--admin-port <port>', 'healthz/metrics port'),
  bindAddress: stringFlag('--bind-address <ip>', 'address to listen on'),
  advertiseAddress: stringFlag('--advertise-address <ip>', 'address other components reach the apiserver at', { env: 'KUBELAB_ADVERTISE_ADDRESS' }),
  serviceClusterIpRange: stringFlag('--service-cluster-ip-range <cidr>', 'Service ClusterIP range', { env: 'KUBELAB_SERVICE_CIDR' }),
  serviceNodePortRange: stringFlag('--service-node-port-range <range>', 'NodePort range'),
  timing: stringFlag('--timing <preset>', 'timing preset: default (Kubernetes) | lab (values in client/timing.ts)', { env: 'KUBELAB_TIMING' }),
  defaultTolerationSeconds: intFlag('--default-toleration-seconds <s>', 'default not-ready/unreachable toleration for pods'),
  compactionIntervalMs: durationFlag('--compaction-interval <duration>', 'etcd compaction interval'),
} satisfies FlagsFor<ApiserverOptions>;
