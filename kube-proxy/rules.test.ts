import { describe, expect, it } from 'vitest';
import type { core } from '../api/types.js';
import { buildRules, parseChains, sepChain, servicePorts, svcChain } from './rules.js';
import { goneUdpEndpoints } from './proxier.js';

const svc = (name: string, spec: core.ServiceSpec, status?: core.ServiceStatus): core.Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default' },
  spec,
  ...(status ? { status } : {}),
});
const eps = (name: string, subsets: core.EndpointSubset[]): core.Endpoints => ({
  apiVersion: 'v1',
  kind: 'Endpoints',
  metadata: { name, namespace: 'default' },
  subsets,
});

const web = svc('web', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' }] });
const webEps = eps('web', [
  {
    addresses: [{ ip: '10.0.64.2' }, { ip: '10.0.64.3' }, { ip: '10.0.64.4' }],
    notReadyAddresses: [{ ip: '10.0.64.9' }],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  },
]);

describe('buildRules', () => {
  it('DNATs a ClusterIP port to every ready endpoint with an even random spread, never to not-ready ones', () => {
    const { text } = buildRules({ services: [web], endpoints: [webEps] });
    const chain = svcChain({ id: 'default/web:http', protocol: 'TCP' });
    expect(text).toContain(`-A KUBE-SERVICES -d 10.96.0.20/32 -p tcp -m tcp --dport 80 -m comment --comment "default/web:http cluster IP" -j ${chain}`);
    const jumps = text.split('\n').filter((l) => l.startsWith(`-A ${chain} `));
    expect(jumps).toHaveLength(3);
    expect(jumps[0]).toContain('--probability 0.3333333333');
    expect(jumps[1]).toContain('--probability 0.5000000000');
    expect(jumps[2]).not.toContain('statistic');
    for (const ip of ['10.0.64.2', '10.0.64.3', '10.0.64.4']) expect(text).toContain(`-j DNAT --to-destination ${ip}:8080`);
    expect(text).not.toContain('10.0.64.9');
    // DNATed traffic is marked and masqueraded so replies come back through the node.
    expect(text).toContain(`-A ${sepChain({ id: 'default/web:http', protocol: 'TCP' }, '10.0.64.2:8080')} -m comment --comment "default/web:http" -j KUBE-MARK-MASQ`);
    expect(text).toMatch(/-A KUBE-POSTROUTING .* -j MASQUERADE/);
  });

  it('rejects a Service with no ready endpoints in the filter table (tcp-reset for TCP, ICMP for UDP)', () => {
    const dns = svc('dns', { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'tcp', port: 53, protocol: 'TCP' }] });
    const { text } = buildRules({ services: [dns, web], endpoints: [eps('web', [{ notReadyAddresses: [{ ip: '10.0.64.9' }], ports: [{ name: 'http', port: 8080 }] }])] });
    const [filter, nat] = text.split('*nat');
    expect(filter).toContain('-A KUBE-SERVICES -d 10.96.0.20/32 -p tcp -m tcp --dport 80 -m comment --comment "default/web:http has no endpoints" -j REJECT --reject-with tcp-reset');
    expect(filter).toContain('-d 10.96.0.10/32 -p udp -m udp --dport 53 -m comment --comment "default/dns:dns has no endpoints" -j REJECT --reject-with icmp-port-unreachable');
    expect(nat).not.toContain('KUBE-SVC-');
  });

  it('serves NodePorts on local addresses and LoadBalancer IPs on the Service port', () => {
    const lb = svc(
      'lb',
      { type: 'LoadBalancer', clusterIP: '10.96.0.30', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }] },
      { loadBalancer: { ingress: [{ ip: '10.0.32.1' }] } },
    );
    const out = buildRules({ services: [lb], endpoints: [eps('lb', [{ addresses: [{ ip: '10.0.64.2' }], ports: [{ port: 80 }] }])] });
    const chain = svcChain({ id: 'default/lb:', protocol: 'TCP' });
    expect(out.text).toContain(`-A KUBE-NODEPORTS -p tcp -m tcp --dport 30080 -m comment --comment "default/lb:" -j ${chain}`);
    expect(out.text).toContain(`-A KUBE-SERVICES -d 10.0.32.1/32 -p tcp -m tcp --dport 80 -m comment --comment "default/lb: loadbalancer IP" -j ${chain}`);
    expect(out.text).toContain('-A KUBE-SERVICES ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');
    // The NodePorts jump comes after every ClusterIP rule.
    const natLines = out.text.split('*nat')[1]!.split('\n').filter((l) => l.startsWith('-A KUBE-SERVICES'));
    expect(natLines.at(-1)).toContain('KUBE-NODEPORTS');
    expect(out.loadBalancerIPs).toEqual(['10.0.32.1']);
  });

  it('pins a client to its endpoint with sessionAffinity ClientIP', () => {
    const s = svc('sticky', { clusterIP: '10.96.0.40', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, ports: [{ port: 80 }] });
    const { text } = buildRules({ services: [s], endpoints: [eps('sticky', [{ addresses: [{ ip: '10.0.64.2' }, { ip: '10.0.64.3' }], ports: [{ port: 80 }] }])] });
    const sep = sepChain({ id: 'default/sticky:', protocol: 'TCP' }, '10.0.64.2:80');
    expect(text).toContain(`-m recent --name ${sep} --mask 255.255.255.255 --rsource --rcheck --seconds 60 --reap -j ${sep}`);
    expect(text).toContain(`-m recent --name ${sep} --mask 255.255.255.255 --rsource --set -m tcp -j DNAT --to-destination 10.0.64.2:80`);
  });

  it('joins Service and Endpoints ports by name, skips headless and ExternalName Services', () => {
    const multi = svc('multi', { clusterIP: '10.96.0.50', ports: [{ name: 'a', port: 80 }, { name: 'b', port: 81 }] });
    const headless = svc('hl', { clusterIP: 'None', ports: [{ port: 80 }] });
    const ext = svc('ext', { type: 'ExternalName', externalName: 'example.org' });
    const ports = servicePorts([multi, headless, ext], [
      eps('multi', [{ addresses: [{ ip: '10.0.64.2' }], ports: [{ name: 'b', port: 9001 }, { name: 'a', port: 9000 }] }]),
    ]);
    expect(ports.map((p) => [p.id, p.clusterIP, p.endpoints])).toEqual([
      ['default/hl:', undefined, []],
      ['default/multi:a', '10.96.0.50', ['10.0.64.2:9000']],
      ['default/multi:b', '10.96.0.50', ['10.0.64.2:9001']],
    ]);
    const { text } = buildRules({ services: [headless], endpoints: [] });
    expect(text).not.toContain('REJECT');
  });

  it('deletes stale KUBE-SVC/SEP chains it no longer uses and rejects unknown ClusterIPs', () => {
    const stale = 'KUBE-SVC-AAAAAAAAAAAAAAAA';
    const { text } = buildRules({ services: [], endpoints: [], serviceCidr: '10.96.0.0/16', existing: { nat: ['KUBE-SERVICES', stale], filter: [] } });
    expect(text).toContain(`:${stale} - [0:0]`);
    expect(text).toContain(`-X ${stale}`);
    expect(text.indexOf(`-X ${stale}`)).toBeGreaterThan(text.indexOf('-A KUBE-SERVICES ! -d 127.0.0.0/8'));
    expect(text).toContain('-A KUBE-SERVICES -d 10.96.0.0/16 -m comment --comment "unknown cluster IP" -j REJECT --reject-with icmp-port-unreachable');
    expect(text.trim().endsWith('COMMIT')).toBe(true);
  });

  it('keeps chain names within iptables limits and stable across runs', () => {
    const a = svcChain({ id: 'a-very-long-namespace-name/a-very-long-service-name:http', protocol: 'TCP' });
    expect(a.length).toBeLessThanOrEqual(28);
    expect(a).toBe(svcChain({ id: 'a-very-long-namespace-name/a-very-long-service-name:http', protocol: 'TCP' }));
    expect(a).not.toBe(svcChain({ id: 'a-very-long-namespace-name/a-very-long-service-name:http', protocol: 'UDP' }));
  });
});

describe('parseChains', () => {
  it('lists KUBE-* chains per table from iptables-save output', () => {
    const save = '*filter\n:INPUT ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\nCOMMIT\n*nat\n:KUBE-SVC-X - [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n';
    expect(parseChains(save)).toEqual({ filter: ['KUBE-SERVICES'], nat: ['KUBE-SVC-X'] });
  });
});

describe('goneUdpEndpoints', () => {
  it('names endpoint IPs a UDP port lost (their conntrack entries must go)', () => {
    const before = [{ id: 'd/dns:', protocol: 'UDP' as const, endpoints: ['10.0.0.1:53', '10.0.0.2:53'] }];
    const after = [{ id: 'd/dns:', protocol: 'UDP' as const, endpoints: ['10.0.0.2:53'] }];
    expect(goneUdpEndpoints(before as never, after as never)).toEqual(['10.0.0.1']);
  });
});

describe('malformed Services', () => {
  it('leaves a malformed Service out of the rules, says why, and still programs the others', () => {
    const bad = [
      svc('port-string', { clusterIP: '10.96.0.30', ports: [{ name: 'http', port: '80; -j ACCEPT' as unknown as number }] }),
      svc('ports-not-list', { clusterIP: '10.96.0.31', ports: 'x' as unknown as core.ServicePort[] }),
      svc('bad-ip', { clusterIP: '10.96.0.32 -j ACCEPT', ports: [{ port: 80 }] }),
      svc('bad-protocol', { clusterIP: '10.96.0.33', ports: [{ port: 80, protocol: 'ICMP' as 'TCP' }] }),
    ];
    const skipped = new Map<string, string>();
    const { text, ports } = buildRules({ services: [...bad, web], endpoints: [webEps], onSkip: (k, why) => skipped.set(k, why) });
    expect([...skipped.keys()].sort()).toEqual(['default/bad-ip', 'default/bad-protocol', 'default/port-string', 'default/ports-not-list']);
    expect(skipped.get('default/port-string')).toMatch(/spec\.ports\[0\]\.port/);
    expect(skipped.get('default/bad-ip')).toMatch(/spec\.clusterIP/);
    expect(ports.map((p) => p.id)).toEqual(['default/web:http']);
    expect(text).toContain('--to-destination 10.0.64.2:8080');
    for (const leftOut of ['10.96.0.30', '10.96.0.31', '10.96.0.32', '10.96.0.33', '80; -j']) expect(text).not.toContain(leftOut);
  });

  it('drops endpoint addresses that are not IPv4 addresses', () => {
    const odd = eps('web', [{ addresses: [{ ip: '10.0.64.2' }, { ip: '1.2.3.4 -j ACCEPT' }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }]);
    const [p] = servicePorts([web], [odd]);
    expect(p.endpoints).toEqual(['10.0.64.2:8080']);
  });
});
