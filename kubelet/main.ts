/** kubelab kubelet entry: flags → config → startKubelet, until SIGTERM. */
import { Command } from 'commander';
import { createLogger } from '../client/log.js';
import { durationFlag, intFlag, runUntilSignal } from '../client/process.js';
import { addClientTlsFlags, clientTlsFromFlags } from '../client/tls.js';
import { compileKubeletConfig, type KubeletOptions, type RuntimeKind, type TimingPreset } from './config.js';
import { startKubelet } from './start.js';

/** Adds the kubelet's flags to a command (shared with the `node` component). */
export function kubeletFlags(cmd: Command): Command {
  return addClientTlsFlags(cmd)
    .option('--tls-cert-file <file>', 'PEM serving certificate of the 10250 server (enables HTTPS)', process.env.KUBELAB_KUBELET_TLS_CERT_FILE)
    .option('--tls-private-key-file <file>', 'PEM key of --tls-cert-file', process.env.KUBELAB_KUBELET_TLS_PRIVATE_KEY_FILE)
    .option('--client-ca-file <file>', 'PEM CA of the client certificates 10250 accepts', process.env.KUBELAB_KUBELET_CLIENT_CA_FILE)
    .option('--apiserver <host:port>', 'apiserver gRPC address', process.env.KUBELAB_APISERVER ?? '127.0.0.1:7443')
    .option('--node-name <name>', 'node name (default: hostname)', process.env.KUBELAB_NODE_NAME)
    .option('--node-ip <ip>', 'advertised InternalIP', process.env.KUBELAB_NODE_IP)
    .option('--port <port>', 'logs/exec server port', intFlag('--port'))
    .option('--admin-port <port>', 'healthz/metrics port', intFlag('--admin-port'))
    .option('--runtime <kind>', 'docker | hollow')
    .option('--cluster-name <name>', 'value of the io.kubelab.cluster label on everything created', process.env.KUBELAB_CLUSTER)
    .option('--pod-network <network>', 'Docker network of pause containers (default: Docker bridge)', process.env.KUBELAB_POD_NETWORK)
    .option('--node-container <name>', "the node's own Docker container (hostNetwork/hostPID/hostIPC pods join it)", process.env.KUBELAB_NODE_CONTAINER)
    .option('--service-cidr <cidr>', 'Service ClusterIP range routed via the node', process.env.KUBELAB_SERVICE_CIDR)
    .option('--cluster-dns <ip>', 'cluster DNS server for ClusterFirst pods', process.env.KUBELAB_CLUSTER_DNS)
    .option('--cluster-domain <domain>', 'cluster domain')
    .option('--cpu <quantity>', 'node cpu capacity')
    .option('--memory <quantity>', 'node memory capacity')
    .option('--max-pods <n>', 'node pod capacity', intFlag('--max-pods'))
    .option('--node-labels <k=v,...>', 'extra node labels')
    .option('--register-with-taints <key=value:Effect,...>', 'taints to register the node with')
    .option('--timing <preset>', 'heartbeat preset: default | lab (status 2s, lease 8s)')
    .option('--node-status-update-frequency <duration>', 'node status check interval', durationFlag('--node-status-update-frequency'))
    .option('--node-lease-duration <duration>', 'lease duration (renewed every quarter)', durationFlag('--node-lease-duration'))
    .option('--static-pod-path <dir>', 'directory of static pod manifests')
    .option('--file-check-frequency <duration>', 'how often the static pod path is read again (default 5s)', durationFlag('--file-check-frequency'))
    .option('--crash-loop-backoff-initial <duration>', 'first crash-loop back-off', durationFlag('--crash-loop-backoff-initial'))
    .option('--crash-loop-backoff-max <duration>', 'crash-loop back-off cap', durationFlag('--crash-loop-backoff-max'))
    .option('--crash-loop-backoff-reset <duration>', 'running this long resets the back-off', durationFlag('--crash-loop-backoff-reset'))
    .option('--hollow-start-delay <duration>', 'hollow runtime: start → Running delay', durationFlag('--hollow-start-delay'))
    .option('--pause-image <image>', 'pod sandbox image');
}

export function kubeletOptions(o: Record<string, unknown>): KubeletOptions {
  return {
    apiserver: o.apiserver as string | undefined,
    tls: clientTlsFromFlags(o),
    tlsCertFile: o.tlsCertFile as string | undefined,
    tlsPrivateKeyFile: o.tlsPrivateKeyFile as string | undefined,
    clientCaFile: o.clientCaFile as string | undefined,
    nodeName: o.nodeName as string | undefined,
    nodeIp: o.nodeIp as string | undefined,
    port: o.port as number | undefined,
    adminPort: o.adminPort as number | undefined,
    runtime: o.runtime as RuntimeKind | undefined,
    clusterName: o.clusterName as string | undefined,
    podNetwork: o.podNetwork as string | undefined,
    nodeContainer: o.nodeContainer as string | undefined,
    serviceCidr: o.serviceCidr as string | undefined,
    clusterDns: o.clusterDns as string | undefined,
    clusterDomain: o.clusterDomain as string | undefined,
    cpu: o.cpu as string | undefined,
    memory: o.memory as string | undefined,
    maxPods: o.maxPods as number | undefined,
    nodeLabels: o.nodeLabels as string | undefined,
    registerWithTaints: o.registerWithTaints as string | undefined,
    timing: o.timing as TimingPreset | undefined,
    nodeStatusUpdateFrequencyMs: o.nodeStatusUpdateFrequency as number | undefined,
    nodeLeaseDurationMs: o.nodeLeaseDuration as number | undefined,
    staticPodPath: o.staticPodPath as string | undefined,
    fileCheckFrequencyMs: o.fileCheckFrequency as number | undefined,
    crashLoopBackoffInitialMs: o.crashLoopBackoffInitial as number | undefined,
    crashLoopBackoffMaxMs: o.crashLoopBackoffMax as number | undefined,
    crashLoopBackoffResetMs: o.crashLoopBackoffReset as number | undefined,
    hollowStartDelayMs: o.hollowStartDelay as number | undefined,
    pauseImage: o.pauseImage as string | undefined,
  };
}

export async function main(argv: string[]): Promise<void> {
  const cmd = kubeletFlags(new Command('kubelet').description('kubelab kubelet: runs the pods bound to this node as Docker containers')).exitOverride();
  cmd.parse(argv, { from: 'user' });
  const cfg = compileKubeletConfig(kubeletOptions(cmd.opts<Record<string, unknown>>()));
  const log = createLogger('kubelet');
  await runUntilSignal(log, (signal) => startKubelet(cfg, signal, { log }));
}
