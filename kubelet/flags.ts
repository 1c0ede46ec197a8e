/** The kubelet's flags, declared once: commander's options and `KubeletOptions` both come from here. */
import { boolFlag, durationFlag, intFlag, oneOfFlag, stringFlag, type FlagsFor } from '../component-base/flags.js';
import { CLIENT_TLS_FLAGS } from '../component-base/tls.js';
import { TIMING_PRESETS } from '../component-base/timing.js';
import type { KubeletOptions } from './config.js';

export const KUBELET_FLAGS = {
  ...CLIENT_TLS_FLAGS,
  tlsCertFile: stringFlag('--tls-cert-file <file>', 'PEM serving certificate of the 10250 server (enables HTTPS)', { env: 'KUBELAB_KUBELET_TLS_CERT_FILE' }),
  tlsPrivateKeyFile: stringFlag('--tls-private-key-file <file>', 'PEM key of --tls-cert-file', { env: 'KUBELAB_KUBELET_TLS_PRIVATE_KEY_FILE' }),
  clientCaFile: stringFlag('--client-ca-file <file>', 'PEM CA of the client certificates 10250 accepts', { env: 'KUBELAB_KUBELET_CLIENT_CA_FILE' }),
  apiserver: stringFlag('--apiserver <host:port>', 'apiserver gRPC address (default 127.0.0.1:7443)', { env: 'KUBELAB_APISERVER' }),
  nodeName: stringFlag('--node-name <name>', 'node name (default: hostname)', { env: 'KUBELAB_NODE_NAME' }),
  nodeIp: stringFlag('--node-ip <ip>', 'advertised InternalIP', { env: 'KUBELAB_NODE_IP' }),
  port: intFlag('--port <port>', 'logs/exec server port'),
  adminPort: intFlag('--admin-port <port>', 'healthz/metrics port'),
  runtime: oneOfFlag('--runtime <kind>', ['docker', 'hollow'], 'container runtime'),
  clusterName: stringFlag('--cluster-name <name>', 'value of the io.kubelab.cluster label on everything created', { env: 'KUBELAB_CLUSTER' }),
  podNetwork: stringFlag('--pod-network <network>', 'Docker network of pause containers (default: Docker bridge)', { env: 'KUBELAB_POD_NETWORK' }),
  nodeContainer: stringFlag('--node-container <name>', "the node's own Docker container (hostNetwork/hostPID/hostIPC pods join it)", { env: 'KUBELAB_NODE_CONTAINER' }),
  serviceCidr: stringFlag('--service-cidr <cidr>', 'Service ClusterIP range routed via the node', { env: 'KUBELAB_SERVICE_CIDR' }),
  clusterDns: stringFlag('--cluster-dns <ip>', 'cluster DNS server for ClusterFirst pods', { env: 'KUBELAB_CLUSTER_DNS' }),
  clusterDomain: stringFlag('--cluster-domain <domain>', 'cluster domain'),
  cpu: stringFlag('--cpu <quantity>', 'node cpu capacity'),
  memory: stringFlag('--memory <quantity>', 'node memory capacity'),
  maxPods: intFlag('--max-pods <n>', 'node pod capacity'),
  nodeLabels: stringFlag('--node-labels <k=v,...>', 'extra node labels'),
  registerWithTaints: stringFlag('--register-with-taints <key=value:Effect,...>', 'taints to register the node with'),
  timing: oneOfFlag('--timing <preset>', TIMING_PRESETS, 'timing preset (values in component-base/timing.ts)'),
  nodeStatusUpdateFrequencyMs: durationFlag('--node-status-update-frequency <duration>', 'node status check interval'),
  nodeLeaseDurationMs: durationFlag('--node-lease-duration <duration>', 'lease duration (renewed every quarter)'),
  staticPodPath: stringFlag('--static-pod-path <dir>', 'directory of static pod manifests'),
  fileCheckFrequencyMs: durationFlag('--file-check-frequency <duration>', 'how often the static pod path is read again (default 5s)'),
  crashLoopBackoffInitialMs: durationFlag('--crash-loop-backoff-initial <duration>', 'first crash-loop back-off'),
  crashLoopBackoffMaxMs: durationFlag('--crash-loop-backoff-max <duration>', 'crash-loop back-off cap'),
  crashLoopBackoffResetMs: durationFlag('--crash-loop-backoff-reset <duration>', 'running this long resets the back-off'),
  hollowStartDelayMs: durationFlag('--hollow-start-delay <duration>', 'hollow runtime: start → Running delay'),
  pauseImage: stringFlag('--pause-image <image>', 'pod sandbox image'),
  enforcePodSecurity: boolFlag('--enforce-pod-security', "refuse pods their namespace's Pod Security level forbids, baseline for unlabelled namespaces (defence in depth; default true)", { env: 'KUBELAB_ENFORCE_POD_SECURITY' }),
} satisfies FlagsFor<KubeletOptions>;
