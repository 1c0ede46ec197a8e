/**
 * kubelab `node` component: the kubelet and kube-proxy in one process, as one lab node container runs
 * them (they share the node's network namespace, where kube-proxy's iptables rules live). A launcher in
 * `cmd/`, the one folder that composes components.
 */
import { ApiClient } from '../client/api.js';
import { boolFlag, durationFlag, intFlag, stringFlag, type FlagValues } from '../component-base/flags.js';
import { loadClientTls } from '../component-base/tls.js';
import { runComponent, type ComponentSpec } from '../component-base/process.js';
import { compileKubeProxyConfig, KUBE_PROXY_FLAGS, startKubeProxy, type KubeProxyConfig } from '../kube-proxy/index.js';
import { compileKubeletConfig, KUBELET_FLAGS, startKubelet, type KubeletConfig } from '../kubelet/index.js';

/** The kubelet's flags, kube-proxy's that differ per node, and `--proxy=false` to run the kubelet alone. */
export const NODE_FLAGS = {
  ...KUBELET_FLAGS,
  proxyAdminPort: intFlag('--proxy-admin-port <port>', 'kube-proxy healthz/metrics port'),
  proxySyncPeriodMs: durationFlag('--proxy-sync-period <duration>', 'kube-proxy full resync period'),
  loadBalancerIpRange: KUBE_PROXY_FLAGS.loadBalancerIpRange,
  iptables: KUBE_PROXY_FLAGS.iptables,
  proxy: boolFlag('--proxy', 'run kube-proxy beside the kubelet (default true)'),
  proxyClientCertificate: stringFlag('--proxy-client-certificate <file>', "kube-proxy's client certificate (system:kube-proxy); default: the kubelet's", { env: 'KUBELAB_PROXY_CLIENT_CERTIFICATE' }),
  proxyClientKey: stringFlag('--proxy-client-key <file>', 'PEM key of --proxy-client-certificate', { env: 'KUBELAB_PROXY_CLIENT_KEY' }),
};

export interface NodeConfig {
  kubelet: KubeletConfig;
  /** Absent with --proxy=false. */
  proxy?: KubeProxyConfig;
}

export function compileNodeConfig(o: FlagValues<typeof NODE_FLAGS>): NodeConfig {
  const kubelet = compileKubeletConfig(o);
  if (o.proxy === false) return { kubelet };
  const proxy = compileKubeProxyConfig({
    apiserver: kubelet.apiserver,
    // kube-proxy acts as its own user (system:kube-proxy) when it has a certificate, as in Kubernetes.
    tls: o.proxyClientCertificate
      ? loadClientTls({ certificateAuthority: o.certificateAuthority, clientCertificate: o.proxyClientCertificate, clientKey: o.proxyClientKey })
      : kubelet.tls,
    ...(!o.proxyClientCertificate && kubelet.token ? { token: kubelet.token } : {}),
    nodeName: kubelet.nodeName,
    serviceClusterIpRange: kubelet.serviceCidr || undefined,
    loadBalancerIpRange: o.loadBalancerIpRange,
    syncPeriodMs: o.proxySyncPeriodMs,
    adminPort: o.proxyAdminPort,
    iptables: o.iptables,
  });
  return { kubelet, proxy };
}

export const nodeComponent: ComponentSpec<typeof NODE_FLAGS, NodeConfig> = {
  name: 'node',
  description: 'kubelab node: kubelet + kube-proxy in one process',
  flags: NODE_FLAGS,
  compile: compileNodeConfig,
  async start(config, signal, logger) {
    const client = new ApiClient(config.kubelet.apiserver, { tls: config.kubelet.tls, token: config.kubelet.token });
    // The node's Lease and status on a connection of their own (Kubernetes' heartbeat client).
    const heartbeatClient = new ApiClient(config.kubelet.apiserver, { tls: config.kubelet.tls, token: config.kubelet.token, ownConnection: true });
    const proxyClient = config.proxy && config.proxy.tls !== config.kubelet.tls ? new ApiClient(config.proxy.apiserver, { tls: config.proxy.tls, token: config.proxy.token }) : client;
    signal.addEventListener(
      'abort',
      () =>
        setTimeout(() => {
          client.close();
          heartbeatClient.close();
          if (proxyClient !== client) proxyClient.close();
        }, 1000).unref(),
      { once: true },
    );
    await startKubelet(config.kubelet, signal, { logger: logger.child({ component: 'kubelet' }), client, heartbeatClient });
    if (config.proxy) await startKubeProxy(config.proxy, signal, { logger: logger.child({ component: 'kube-proxy' }), client: proxyClient });
  },
};

export function main(argv: string[]): Promise<void> {
  return runComponent(nodeComponent, argv);
}
