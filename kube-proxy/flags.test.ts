import { describe, expect, it } from 'vitest';
import { parseComponentConfig } from '../component-base/process.js';
import { dnsComponent } from './dns-main.js';
import { kubeProxyComponent } from './main.js';

describe('kube-proxy flags', () => {
  const parse = (...argv: string[]) => parseComponentConfig(kubeProxyComponent, ['--hostname-override', 'n1', ...argv], {});

  it('fills every default', () => {
    expect(parse()).toMatchObject({ nodeName: 'n1', adminPort: 10256, allowHostIptables: false, iptables: 'iptables' });
  });

  it('reads each kind of flag into the config', () => {
    expect(parse('--allow-host-iptables', '--sync-period', '10s', '--service-cluster-ip-range', '10.96.0.0/16')).toMatchObject({
      allowHostIptables: true,
      syncPeriodMs: 10_000,
      serviceCidr: '10.96.0.0/16',
    });
    expect(parse('--allow-host-iptables=false').allowHostIptables).toBe(false);
  });

  it.each([
    [['--allow-host-iptables=please'], '--allow-host-iptables: "please" is not a boolean'],
    [['--min-sync-period', 'soon'], '--min-sync-period: "soon" is not a duration'],
    [['--service-cluster-ip-range', 'ten'], '--service-cluster-ip-range'],
  ])('refuses %j naming the flag and the reason', (argv, message) => {
    expect(() => parse(...argv)).toThrow(message);
  });
});

describe('dns flags', () => {
  const parse = (...argv: string[]) => parseComponentConfig(dnsComponent, ['--advertise-address', '10.0.0.10', '--upstream', '10.0.0.1', ...argv], {});

  it('fills every default', () => {
    expect(parse()).toMatchObject({ clusterDomain: 'cluster.local', upstreams: ['10.0.0.1'] });
  });

  it('collects --upstream values and reads durations', () => {
    expect(parse('--upstream', '10.0.0.2', '--forward-timeout', '1500ms')).toMatchObject({ upstreams: ['10.0.0.1', '10.0.0.2'], forwardTimeoutMs: 1500 });
  });

  it.each([
    [['--port', 'dns'], '--port: "dns" is not an integer'],
    [['--cluster-domain', 'bad_domain'], '--cluster-domain: "bad_domain" is not a domain'],
  ])('refuses %j naming the flag and the reason', (argv, message) => {
    expect(() => parse(...argv)).toThrow(message);
  });
});
