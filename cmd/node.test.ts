import { describe, expect, it } from 'vitest';
import { parseComponentConfig } from '../component-base/process.js';
import { nodeComponent } from './node.js';

const parse = (...argv: string[]) => parseComponentConfig(nodeComponent, ['--node-name', 'worker-1', '--node-ip', '10.213.0.21', ...argv], {});

describe('node flags (kubelet + kube-proxy)', () => {
  it('gives kube-proxy the kubelet\'s apiserver, node name and Service range by default', () => {
    const cfg = parse('--apiserver', '10.213.0.3:7443', '--service-cidr', '10.213.128.0/17');
    expect(cfg.kubelet).toMatchObject({ apiserver: '10.213.0.3:7443', nodeName: 'worker-1', adminPort: 10248 });
    expect(cfg.proxy).toMatchObject({ apiserver: '10.213.0.3:7443', nodeName: 'worker-1', serviceCidr: '10.213.128.0/17', adminPort: 10256 });
  });

  it('reads the kube-proxy flags and runs the kubelet alone with --proxy=false', () => {
    expect(parse('--proxy-admin-port', '-1', '--proxy-sync-period', '10s', '--iptables', 'iptables-legacy').proxy).toMatchObject({ adminPort: -1, syncPeriodMs: 10_000, iptables: 'iptables-legacy' });
    expect(parse('--proxy=false').proxy).toBeUndefined();
  });

  it.each([
    [['--proxy=no'], '--proxy: "no" is not a boolean'],
    [['--proxy-sync-period', 'x'], '--proxy-sync-period: "x" is not a duration'],
    [['--load-balancer-ip-range', 'ten'], '--load-balancer-ip-range'],
    [['--max-pods', '0'], '--max-pods'],
  ])('refuses %j naming the flag and the reason', (argv, message) => {
    expect(() => parse(...argv)).toThrow(message);
  });
});
