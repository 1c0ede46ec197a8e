/** dns component entry: cluster DNS (+ kube-dns registration, LoadBalancer IPs), until SIGTERM. */
import { runComponent, type ComponentSpec } from '../component-base/process.js';
import { startDns } from './dns/component.js';
import { compileDnsConfig, type DnsConfig } from './dns/config.js';
import { DNS_FLAGS } from './flags.js';

export const dnsComponent: ComponentSpec<typeof DNS_FLAGS, DnsConfig> = {
  name: 'dns',
  description: 'kubelab cluster DNS: <svc>.<ns>.svc.<domain>, StatefulSet pod names, SRV; registers kube-dns; allocates LoadBalancer IPs',
  flags: DNS_FLAGS,
  compile: compileDnsConfig,
  start: (config, signal, logger) => startDns(config, signal, { logger }),
};

export function main(argv: string[]): Promise<void> {
  return runComponent(dnsComponent, argv);
}
