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
    .option('--authorization-mode <modes>', 'comma list of AlwaysAllow, AlwaysDeny, Node, RBAC', process.env.KUBELAB_AUTHORIZATION_MODE)
    .option('--anonymous-user <who>', 'a request without credentials is: admin (lab default until TLS) or anonymous', process.env.KUBELAB_ANONYMOUS_USER)
    .option('--token-auth-file <file>', 'static bearer tokens (CSV token,user,uid,"groups")')
    .option('--service-account-key-file <file>', 'PKCS#8 PEM key signing ServiceAccount tokens (generated when absent)', process.env.KUBELAB_SERVICE_ACCOUNT_KEY_FILE)
    .option('--service-account-issuer <url>', 'issuer of ServiceAccount tokens')
    .option('--api-audiences <list>', 'audiences the API accepts in ServiceAccount tokens')
    .option('--enable-admission-plugins <list>', 'extra admission plugins (ServiceAccount)', process.env.KUBELAB_ENABLE_ADMISSION_PLUGINS)
    .option('--pod-security-defaults <list>', 'enforce=<level>,warn=<level>,audit=<level> for namespaces without labels', process.env.KUBELAB_POD_SECURITY_DEFAULTS)
    .option('--root-ca-file <file>', 'cluster CA certificate published as the kube-root-ca.crt ConfigMap', process.env.KUBELAB_ROOT_CA_FILE)
    .option('--encryption-provider-config <file>', 'EncryptionConfiguration for secrets at rest', process.env.KUBELAB_ENCRYPTION_PROVIDER_CONFIG)
    .option('--audit-log-path <file>', 'write audit events as JSON lines here', process.env.KUBELAB_AUDIT_LOG_PATH)
    .option('--audit-policy-file <file>', 'audit.k8s.io/v1 Policy deciding each request\'s audit level', process.env.KUBELAB_AUDIT_POLICY_FILE)
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
    authorizationMode: o.authorizationMode as string | undefined,
    anonymousUser: o.anonymousUser as string | undefined,
    tokenAuthFile: o.tokenAuthFile as string | undefined,
    serviceAccountKeyFile: o.serviceAccountKeyFile as string | undefined,
    serviceAccountIssuer: o.serviceAccountIssuer as string | undefined,
    apiAudiences: o.apiAudiences as string | undefined,
    enableAdmissionPlugins: o.enableAdmissionPlugins as string | undefined,
    podSecurityDefaults: o.podSecurityDefaults as string | undefined,
    rootCaFile: o.rootCaFile as string | undefined,
    encryptionProviderConfig: o.encryptionProviderConfig as string | undefined,
    auditLogPath: o.auditLogPath as string | undefined,
    auditPolicyFile: o.auditPolicyFile as string | undefined,
  });
  const log = createLogger('apiserver');
  await runUntilSignal(log, (signal) => startApiserver(cfg, log, signal));
}
