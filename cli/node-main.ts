/**
 * kubelab `node` component: the kubelet and kube-proxy in one process, as one lab node container runs
 * them (they share the node's network namespace, where kube-proxy's iptables rules live). A launcher,
 * like cli/component.ts: the one place where two components are composed, so it lives outside both.
 */
import { Command } from 'commander';
import { ApiClient } from '../client/api.js';
import { createLogger } from '../client/log.js';
import { loadClientTls } from '../client/tls.js';
import { durationFlag, intFlag, runUntilSignal } from '../client/process.js';
import { compileKubeProxyConfig, startKubeProxy } from '../kube-proxy/index.js';
import { compileKubeletConfig } from '../kubelet/config.js';
import { kubeletFlags, kubeletOptions } from '../kubelet/main.js';
import { startKubelet } from '../kubelet/start.js';

export async function main(argv: string[]): Promise<void> {
  const cmd = kubeletFlags(new Command('node').description('kubelab node: kubelet + kube-proxy in one process'))
    .option('--proxy-admin-port <port>', 'kube-proxy healthz/metrics port', intFlag('--proxy-admin-port'))
    .option('--proxy-sync-period <duration>', 'kube-proxy full resync period', durationFlag('--proxy-sync-period'))
    .option('--load-balancer-ip-range <cidr>', 'LoadBalancer ingress IP range (env KUBELAB_LB_CIDR)')
    .option('--iptables <binary>', 'iptables, iptables-nft or iptables-legacy')
    .option('--proxy-client-certificate <file>', "kube-proxy's client certificate (system:kube-proxy); default: the kubelet's", process.env.KUBELAB_PROXY_CLIENT_CERTIFICATE)
    .option('--proxy-client-key <file>', 'PEM key of --proxy-client-certificate', process.env.KUBELAB_PROXY_CLIENT_KEY)
    .option('--no-proxy', 'run only the kubelet')
    .exitOverride();
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts<Record<string, unknown>>();
  const cfg = compileKubeletConfig(kubeletOptions(o));
  const proxyCfg =
    o.proxy === false
      ? undefined
      : compileKubeProxyConfig({
          apiserver: cfg.apiserver,
          tls: o.proxyClientCertificate
            ? loadClientTls({ certificateAuthority: o.certificateAuthority as string | undefined, clientCertificate: o.proxyClientCertificate as string, clientKey: o.proxyClientKey as string | undefined })
            : cfg.tls,
          nodeName: cfg.nodeName,
          serviceClusterIpRange: cfg.serviceCidr || undefined,
          loadBalancerIpRange: o.loadBalancerIpRange as string | undefined,
          syncPeriodMs: o.proxySyncPeriod as number | undefined,
          adminPort: o.proxyAdminPort as number | undefined,
          iptables: o.iptables as string | undefined,
        });
  const log = createLogger('node');
  await runUntilSignal(log, async (signal) => {
    const client = new ApiClient(cfg.apiserver, { tls: cfg.tls });
    // kube-proxy acts as its own user (system:kube-proxy) when it has a certificate, as in Kubernetes.
    const proxyClient = proxyCfg && proxyCfg.tls !== cfg.tls ? new ApiClient(proxyCfg.apiserver, { tls: proxyCfg.tls }) : client;
    signal.addEventListener(
      'abort',
      () =>
        setTimeout(() => {
          client.close();
          if (proxyClient !== client) proxyClient.close();
        }, 1000).unref(),
      { once: true },
    );
    await startKubelet(cfg, signal, { log: log.child({ component: 'kubelet' }), client });
    if (proxyCfg) await startKubeProxy(proxyCfg, signal, { logger: log.child({ component: 'kube-proxy' }), client: proxyClient });
  });
}
