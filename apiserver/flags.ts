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
  authorizationMode: stringFlag('--authorization-mode <modes>', 'comma list of AlwaysAllow, AlwaysDeny, Node, RBAC (default AlwaysAllow)', { env: 'KUBELAB_AUTHORIZATION_MODE' }),
  anonymousUser: stringFlag('--anonymous-user <who>', 'a request without credentials is: admin (lab default until TLS) or anonymous', { env: 'KUBELAB_ANONYMOUS_USER' }),
  tokenAuthFile: stringFlag('--token-auth-file <file>', 'static bearer tokens (CSV token,user,uid,"groups")'),
  serviceAccountKeyFile: stringFlag('--service-account-key-file <file>', 'PKCS#8 PEM key signing ServiceAccount tokens (generated when absent)', { env: 'KUBELAB_SERVICE_ACCOUNT_KEY_FILE' }),
  serviceAccountIssuer: stringFlag('--service-account-issuer <url>', 'issuer of ServiceAccount tokens'),
  apiAudiences: stringFlag('--api-audiences <list>', 'audiences the API accepts in ServiceAccount tokens'),
  enableAdmissionPlugins: stringFlag('--enable-admission-plugins <list>', 'extra admission plugins (ServiceAccount)', { env: 'KUBELAB_ENABLE_ADMISSION_PLUGINS' }),
  podSecurityDefaults: stringFlag('--pod-security-defaults <list>', 'enforce=<level>,warn=<level>,audit=<level> for namespaces without labels', { env: 'KUBELAB_POD_SECURITY_DEFAULTS' }),
  rootCaFile: stringFlag('--root-ca-file <file>', 'cluster CA certificate published as the kube-root-ca.crt ConfigMap', { env: 'KUBELAB_ROOT_CA_FILE' }),
  encryptionProviderConfig: stringFlag('--encryption-provider-config <file>', 'EncryptionConfiguration for Secrets at rest', { env: 'KUBELAB_ENCRYPTION_PROVIDER_CONFIG' }),
  auditLogPath: stringFlag('--audit-log-path <file>', 'write audit events as JSON lines here', { env: 'KUBELAB_AUDIT_LOG_PATH' }),
  auditPolicyFile: stringFlag('--audit-policy-file <file>', "audit.k8s.io/v1 Policy deciding each request's audit level", { env: 'KUBELAB_AUDIT_POLICY_FILE' }),
} satisfies FlagsFor<ApiserverOptions>;
