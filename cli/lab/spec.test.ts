/** The HA control plane's shape as data: members, addresses, etcd's initial cluster, HAProxy's backends. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_HA, apiserverReplicaIp, checkHa, componentArgs, componentContainer, composeLabSpec, etcdArgs, haproxyConfig, labPki, type LabSpec } from './spec.js';

const ha: LabSpec = { ...composeLabSpec(), ha: DEFAULT_HA };

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
}

describe('an HA lab spec', () => {
  it('starts three etcd members that know each other by container name, with peer TLS', () => {
    const args = etcdArgs(ha, 'etcd-2');
    expect(flag(args, '--name')).toBe('etcd-2');
    expect(flag(args, '--initial-cluster')).toBe('etcd-1=https://kubelab-etcd-1:2380,etcd-2=https://kubelab-etcd-2:2380,etcd-3=https://kubelab-etcd-3:2380');
    expect(flag(args, '--initial-advertise-peer-urls')).toBe('https://kubelab-etcd-2:2380');
    expect(flag(args, '--peer-trusted-ca-file')).toBe('/etc/kubernetes/pki/ca.crt');
    expect(args).toContain('--peer-client-cert-auth');
    expect(componentContainer(ha, 'etcd', 2).name).toBe('kubelab-etcd-2');
    expect(componentContainer(ha, 'etcd', 2).Cmd).toEqual(args);
  });

  it('gives every apiserver all members, its own address, and the load balancer the published ports', () => {
    expect(flag(componentArgs(ha, 'apiserver'), '--etcd-servers')).toBe('https://kubelab-etcd-1:2379,https://kubelab-etcd-2:2379,https://kubelab-etcd-3:2379');
    const a2 = componentContainer(ha, 'apiserver', 2);
    expect(a2.name).toBe('kubelab-apiserver-2');
    expect(a2.NetworkingConfig?.EndpointsConfig?.kubelab?.IPAMConfig?.IPv4Address).toBe('10.213.0.5');
    expect(a2.HostConfig?.PortBindings).toBeUndefined();
    const lb = componentContainer(ha, 'lb');
    expect(lb.NetworkingConfig?.EndpointsConfig?.kubelab?.IPAMConfig?.IPv4Address).toBe('10.213.0.3');
    expect(Object.keys(lb.HostConfig?.PortBindings ?? {})).toEqual(['6443/tcp', '7443/tcp']);
  });

  it('balances both API ports over every apiserver, checked every second, shutting a dead one’s sessions', () => {
    const cfg = haproxyConfig(ha);
    expect(cfg).toMatch(/frontend rest\n  bind :6443/);
    expect(cfg).toMatch(/frontend grpc\n  bind :7443/);
    expect(cfg.match(/server apiserver-\d 10\.213\.0\.\d:7443 check inter 1s fall 2 rise 2 on-marked-down shutdown-sessions observe layer4 error-limit 1 on-error mark-down/g)).toHaveLength(2);
    expect(cfg.match(/server apiserver-\d 10\.213\.0\.\d:6443/g)).toHaveLength(2);
    expect(cfg).toMatch(/timeout tunnel 24h/);
  });

  it('keeps one etcd and one apiserver without ha, as docker-compose.yml has them', () => {
    const single = composeLabSpec();
    expect(flag(componentArgs(single, 'apiserver'), '--etcd-servers')).toBe('https://kubelab-etcd:2379');
    expect(flag(etcdArgs(single), '--initial-cluster')).toBe('etcd=http://127.0.0.1:2380');
    expect(componentContainer(single, 'apiserver').name).toBe('kubelab-apiserver');
  });

  it('has every HA name and address in the certificates either way, so switching reissues nothing', () => {
    const hostsOf = (spec: LabSpec, file: string): string[] => labPki(spec, []).certs.find((c) => c.file === file)?.hosts ?? [];
    expect(hostsOf(ha, 'apiserver')).toEqual(hostsOf(composeLabSpec(), 'apiserver'));
    expect(hostsOf(ha, 'apiserver')).toEqual(expect.arrayContaining(['kubelab-apiserver-1', apiserverReplicaIp(ha, 2), '10.213.0.3']));
    expect(hostsOf(ha, 'etcd-server')).toEqual(expect.arrayContaining(['kubelab-etcd-1', 'kubelab-etcd-3']));
  });

  it('refuses a shape it cannot build, naming the field and why', () => {
    expect(() => checkHa({ etcdMembers: 2, apiservers: 2 })).toThrow(/ha\.etcdMembers: 2 must be an odd number/);
    expect(() => checkHa({ etcdMembers: 7, apiservers: 2 })).toThrow(/from 1 to 5/);
    expect(() => checkHa({ etcdMembers: 3, apiservers: 0 })).toThrow(/ha\.apiservers: 0/);
    expect(() => checkHa({ etcdMembers: 3, apiservers: 1.5 })).toThrow(/ha\.apiservers/);
    expect(() => apiserverReplicaIp(ha, 4)).toThrow(/out of range/);
  });
});
