/** kubelab apiserver entry: flags → config → startApiserver, until SIGTERM. */
import { Command } from 'commander';
import { createLogger } from '../client/log.js';
import { durationFlag, intFlag, runUntilSignal } from '../client/process.js';
import { compileApiserverConfig } from './config.js';
import { startApiserver } from './server.js';

export async function main(argv: string[]): Promise<void> {
  const cmd = new Command('apiserver')
    .description('kubelab apiserver: the object API on etcd (gRPC) and the Kubernetes REST API for kubectl')
    .option('--etcd-servers <urls>', 'comma-separated etcd endpoints', process.env.KUBELAB_ETCD_SERVERS)
    .option('--etcd-prefix <prefix>', 'key prefix in etcd', '/registry')
    .option('--grpc-port <port>', 'gRPC API port', intFlag('--grpc-port'))
    .option('--http-port <port>', 'Kubernetes REST API port (kubectl)', intFlag('--http-port'))
    .option('--admin-port <port>', 'healthz/metrics port', intFlag('--admin-port'))
    .option('--bind-address <ip>', 'address to listen on')
    .option('--advertise-address <ip>', 'address other components reach the apiserver at', process.env.KUBELAB_ADVERTISE_ADDRESS)
    .option('--service-cluster-ip-range <cidr>', 'Service ClusterIP range', process.env.KUBELAB_SERVICE_CIDR)
    .option('--service-node-port-range <range>', 'NodePort range')
    .option('--timing <preset>', 'timing preset: default (Kubernetes) | lab (client/timing.ts)', process.env.KUBELAB_TIMING)
    .option('--default-toleration-seconds <s>', 'default not-ready/unreachable toleration for pods', intFlag('--default-toleration-seconds'))
    .option('--compaction-interval <duration>', 'etcd compaction interval', durationFlag('--compaction-interval'))
    .exitOverride();
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts<Record<string, unknown>>();
  const cfg = compileApiserverConfig({
    etcdServers: o.etcdServers as string | undefined,
    etcdPrefix: o.etcdPrefix as string,
    grpcPort: o.grpcPort as number | undefined,
    httpPort: o.httpPort as number | undefined,
    adminPort: o.adminPort as number | undefined,
    bindAddress: o.bindAddress as string | undefined,
    advertiseAddress: o.advertiseAddress as string | undefined,
    serviceClusterIpRange: o.serviceClusterIpRange as string | undefined,
    serviceNodePortRange: o.serviceNodePortRange as string | undefined,
    timing: o.timing as string | undefined,
    defaultTolerationSeconds: o.defaultTolerationSeconds as number | undefined,
    compactionIntervalMs: o.compactionInterval as number | undefined,
  });
  const log = createLogger('apiserver');
  await runUntilSignal(log, (signal) => startApiserver(cfg, log, signal));
}
