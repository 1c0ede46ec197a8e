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
    .option('--default-toleration-seconds <s>', 'default not-ready/unreachable toleration for pods', intFlag('--default-toleration-seconds'))
    .option('--compaction-interval <duration>', 'etcd compaction interval', durationFlag('--compaction-interval'))
    .option('--tls-cert-file <file>', 'PEM serving certificate of REST and gRPC', process.env.KUBELAB_TLS_CERT_FILE)
    .option('--tls-private-key-file <file>', 'PEM key of --tls-cert-file', process.env.KUBELAB_TLS_PRIVATE_KEY_FILE)
    .option('--client-ca-file <file>', 'PEM CA whose client certificates authenticate users (CN = user, O = groups)', process.env.KUBELAB_CLIENT_CA_FILE)
    .option('--etcd-cafile <file>', 'PEM CA of the etcd serving certificate', process.env.KUBELAB_ETCD_CAFILE)
    .option('--etcd-certfile <file>', 'PEM client certificate for etcd', process.env.KUBELAB_ETCD_CERTFILE)
    .option('--etcd-keyfile <file>', 'PEM key of --etcd-certfile', process.env.KUBELAB_ETCD_KEYFILE)
    .option('--kubelet-client-certificate <file>', 'PEM client certificate presented to kubelets', process.env.KUBELAB_KUBELET_CLIENT_CERTIFICATE)
    .option('--kubelet-client-key <file>', 'PEM key of --kubelet-client-certificate', process.env.KUBELAB_KUBELET_CLIENT_KEY)
    .option('--kubelet-certificate-authority <file>', 'PEM CA that signed the kubelets\' serving certificates', process.env.KUBELAB_KUBELET_CERTIFICATE_AUTHORITY)
    .option('--insecure', 'plain HTTP/gRPC, no authentication: a throwaway test apiserver only')
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
    defaultTolerationSeconds: o.defaultTolerationSeconds as number | undefined,
    compactionIntervalMs: o.compactionInterval as number | undefined,
    tlsCertFile: o.tlsCertFile as string | undefined,
    tlsPrivateKeyFile: o.tlsPrivateKeyFile as string | undefined,
    clientCaFile: o.clientCaFile as string | undefined,
    etcdCaFile: o.etcdCafile as string | undefined,
    etcdCertFile: o.etcdCertfile as string | undefined,
    etcdKeyFile: o.etcdKeyfile as string | undefined,
    kubeletClientCertificate: o.kubeletClientCertificate as string | undefined,
    kubeletClientKey: o.kubeletClientKey as string | undefined,
    kubeletCertificateAuthority: o.kubeletCertificateAuthority as string | undefined,
    insecure: o.insecure === true,
  });
  const log = createLogger('apiserver');
  await runUntilSignal(log, (signal) => startApiserver(cfg, log, signal));
}
