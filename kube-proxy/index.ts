/** kube-proxy (iptables mode, confined to the node container) and the cluster DNS component. */
export { compileKubeProxyConfig, KubeProxyConfigError, type KubeProxyConfig, type KubeProxyOptions } from './config.js';
export { DNS_FLAGS, KUBE_PROXY_FLAGS } from './flags.js';
export { startKubeProxy, type KubeProxyDeps, type RunningKubeProxy } from './proxier.js';
export { buildRules, servicePorts, type RuleInput, type RuleOutput, type ServicePortInfo } from './rules.js';
export { compileDnsConfig, type DnsConfig, type DnsOptions } from './dns/config.js';
export { startDns, type RunningDns } from './dns/component.js';
