import { describe, expect, it } from 'vitest';
import { parseComponentConfig } from '../component-base/process.js';
import { apiserverComponent } from './main.js';

// --insecure: these tests are about the other flags (TLS files are checked in config.test.ts).
const parse = (...argv: string[]) => parseComponentConfig(apiserverComponent, ['--insecure', ...argv], {});

describe('apiserver flags', () => {
  it('fills every default', () => {
    expect(parse()).toMatchObject({ etcdServers: ['http://127.0.0.1:2379'], etcdPrefix: '/registry', grpcPort: 7443, httpPort: 6443, adminPort: 10260, nodePortRange: [30000, 32767], compactionIntervalMs: 300_000, eventTtlMs: 3_600_000 });
  });

  it('reads flags and the environment into the config', () => {
    expect(parse('--etcd-servers', 'http://a:2379,http://b:2379', '--compaction-interval', '30s', '--service-node-port-range', '31000-31999', '--event-ttl', '10m')).toMatchObject({
      eventTtlMs: 600_000,
      etcdServers: ['http://a:2379', 'http://b:2379'],
      compactionIntervalMs: 30_000,
      nodePortRange: [31000, 31999],
    });
    expect(parseComponentConfig(apiserverComponent, ['--insecure'], { KUBELAB_SERVICE_CIDR: '10.213.128.0/17' }).serviceCidr).toBe('10.213.128.0/17');
  });

  it.each([
    [['--grpc-port', 'x'], '--grpc-port: "x" is not an integer'],
    [['--compaction-interval', 'often'], '--compaction-interval: "often" is not a duration'],
    [['--service-node-port-range', '32767-30000'], '--service-node-port-range: "32767-30000" is not a port range'],
    [['--service-cluster-ip-range', '10.96.0.0'], '--service-cluster-ip-range: "10.96.0.0" is not an IPv4 CIDR'],
    [['--event-ttl', '500ms'], '--event-ttl: 0.5s is shorter than an etcd lease can be (at least 1s)'],
    [['--event-ttl', 'soon'], '--event-ttl: "soon" is not a duration'],
  ])('refuses %j naming the flag and the reason', (argv, message) => {
    expect(() => parse(...argv)).toThrow(message);
  });

  it('is secure by default: Node,RBAC, the ServiceAccount, NodeRestriction and PodSecurity plugins, enforce=baseline', () => {
    const { security } = parse();
    expect(security).toMatchObject({
      authorizationModes: ['Node', 'RBAC'],
      admissionPlugins: ['ServiceAccount', 'NodeRestriction', 'PodSecurity'],
      podSecurityDefaults: { enforce: 'baseline', warn: 'privileged', audit: 'privileged' },
    });
    // Plain --insecure has no authentication: no credentials is the admin there, system:anonymous otherwise.
    expect(security.anonymousUser).toBe('admin');
    expect(parse('--anonymous-user', 'anonymous').security.anonymousUser).toBe('anonymous');
  });

  it('turns layers off only when asked, and names the flag of a bad value', () => {
    const off = parse('--authorization-mode', 'AlwaysAllow', '--disable-admission-plugins', 'ServiceAccount', '--pod-security-defaults', 'enforce=privileged').security;
    expect(off).toMatchObject({ authorizationModes: ['AlwaysAllow'], admissionPlugins: ['NodeRestriction', 'PodSecurity'], podSecurityDefaults: { enforce: 'privileged' } });
    expect(() => parse('--disable-admission-plugins', 'PodSecurity')).toThrow('--disable-admission-plugins: PodSecurity cannot be turned off (relax it with --pod-security-defaults enforce=privileged or namespace labels)');
    expect(() => parse('--disable-admission-plugins', 'Nope')).toThrow('--disable-admission-plugins: "Nope" is not one of ServiceAccount, NodeRestriction, PodSecurity');
    expect(() => parse('--enable-admission-plugins', 'ServiceAccount', '--disable-admission-plugins', 'ServiceAccount')).toThrow('both name ServiceAccount');
  });

  it('limits mutating requests in flight (200 by default, 0 for none) and names the flag of a bad value', () => {
    expect(parse().maxMutatingInflight).toBe(50);
    expect(parse('--max-mutating-requests-inflight', '0').maxMutatingInflight).toBe(0);
    expect(() => parse('--max-mutating-requests-inflight', '-1')).toThrow('--max-mutating-requests-inflight: -1 must be a whole number, 0 or more');
    expect(() => parse('--max-mutating-requests-inflight', 'lots')).toThrow('--max-mutating-requests-inflight: "lots" is not an integer');
  });

  it('refuses to start without TLS files unless --insecure, naming the flags', () => {
    expect(() => parseComponentConfig(apiserverComponent, [], {})).toThrow(/--tls-cert-file, --tls-private-key-file and --client-ca-file are required/);
    expect(() => parseComponentConfig(apiserverComponent, ['--tls-cert-file', '/nonexistent.crt'], {})).toThrow(/go together/);
    expect(() => parseComponentConfig(apiserverComponent, ['--tls-cert-file', '/nonexistent.crt', '--tls-private-key-file', '/k', '--client-ca-file', '/ca'], {})).toThrow(/--tls-cert-file: cannot read \/nonexistent.crt: ENOENT/);
  });
});
