import { describe, expect, it } from 'vitest';
import type { core } from '../../api/types.js';
import { resolve, type DnsView } from './records.js';

const services: core.Service[] = [
  { metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } },
  { metadata: { name: 'nginx', namespace: 'default' }, spec: { clusterIP: 'None', ports: [{ name: 'web', port: 80 }] } },
  { metadata: { name: 'ext', namespace: 'default' }, spec: { type: 'ExternalName', externalName: 'example.org' } },
];
const endpoints: core.Endpoints[] = [
  {
    metadata: { name: 'nginx', namespace: 'default' },
    subsets: [
      {
        addresses: [{ ip: '10.0.64.5', hostname: 'web-0' }, { ip: '10.0.64.6', hostname: 'web-1' }],
        notReadyAddresses: [{ ip: '10.0.64.7', hostname: 'web-2' }],
        ports: [{ name: 'web', port: 8080 }],
      },
    ],
  },
];
const view: DnsView = {
  service: (ns, n) => services.find((s) => s.metadata?.namespace === ns && s.metadata?.name === n),
  endpoints: (ns, n) => endpoints.find((s) => s.metadata?.namespace === ns && s.metadata?.name === n),
  services: () => services,
  allEndpoints: () => endpoints,
};
const D = 'cluster.local';
const ips = (r: ReturnType<typeof resolve>): unknown => (r.kind === 'answer' ? r.answers.map((a) => a.data) : r.kind);

describe('cluster DNS records', () => {
  it('answers a Service name with its ClusterIP, case-insensitively and with a trailing dot', () => {
    expect(ips(resolve(view, 'web.default.svc.cluster.local', 'A', D))).toEqual(['10.96.0.20']);
    expect(ips(resolve(view, 'WEB.default.svc.cluster.local.', 'A', D))).toEqual(['10.96.0.20']);
    expect(ips(resolve(view, 'web.default.svc.cluster.local', 'AAAA', D))).toBe('nodata');
  });

  it('answers a headless Service with its ready pod IPs and a StatefulSet pod by hostname', () => {
    expect(ips(resolve(view, 'nginx.default.svc.cluster.local', 'A', D))).toEqual(['10.0.64.5', '10.0.64.6']);
    expect(ips(resolve(view, 'web-0.nginx.default.svc.cluster.local', 'A', D))).toEqual(['10.0.64.5']);
    expect(ips(resolve(view, 'web-2.nginx.default.svc.cluster.local', 'A', D))).toBe('nxdomain'); // not ready
  });

  it('answers SRV for named ports (ClusterIP and headless)', () => {
    const r = resolve(view, '_http._tcp.web.default.svc.cluster.local', 'SRV', D);
    expect(r.kind === 'answer' && r.answers[0]?.data).toEqual({ priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' });
    const h = resolve(view, '_web._tcp.nginx.default.svc.cluster.local', 'SRV', D);
    expect(h.kind === 'answer' && h.answers.map((a) => a.data)).toEqual([
      { priority: 0, weight: 100, port: 8080, target: 'web-0.nginx.default.svc.cluster.local' },
      { priority: 0, weight: 100, port: 8080, target: 'web-1.nginx.default.svc.cluster.local' },
    ]);
  });

  it('says NXDOMAIN for unknown names in the domain and forwards the rest', () => {
    expect(resolve(view, 'nope.default.svc.cluster.local', 'A', D).kind).toBe('nxdomain');
    expect(resolve(view, 'web.other.svc.cluster.local', 'A', D).kind).toBe('nxdomain');
    expect(resolve(view, 'default.svc.cluster.local', 'A', D).kind).toBe('nodata');
    expect(resolve(view, 'example.org', 'A', D).kind).toBe('forward');
    expect(resolve(view, 'cluster.local.example.org', 'A', D).kind).toBe('forward');
  });

  it('answers pod A records and PTR for ClusterIPs and named pods', () => {
    expect(ips(resolve(view, '10-0-64-9.default.pod.cluster.local', 'A', D))).toEqual(['10.0.64.9']);
    expect(ips(resolve(view, '20.0.96.10.in-addr.arpa', 'PTR', D))).toEqual(['web.default.svc.cluster.local']);
    expect(ips(resolve(view, '5.64.0.10.in-addr.arpa', 'PTR', D))).toEqual(['web-0.nginx.default.svc.cluster.local']);
    expect(resolve(view, '1.1.1.10.in-addr.arpa', 'PTR', D).kind).toBe('forward');
  });
});
