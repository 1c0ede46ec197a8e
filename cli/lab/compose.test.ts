import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { labServices, phasesTable, workersOverride } from './compose.js';
import { PKI_PATH, PORTS, addressPlan, componentArgs, componentContainer, composeLabSpec, controlPlaneNetwork, HEALTHCHECK_INTERVAL_MS, controlPlaneNetworkLabels, httpHealthcheck, workerIp, workerName } from './spec.js';

interface Service {
  command?: string[];
  healthcheck?: { test?: string[]; interval?: string; retries?: number };
  labels?: Record<string, string>;
  networks?: Record<string, { ipv4_address?: string } | null> | string[];
  container_name?: string;
}

const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  networks: Record<string, { name: string; ipam: { config: { subnet: string; ip_range: string }[] }; labels: Record<string, string> }>;
};

/** `--a=b` → `--a b`, as componentArgs writes them. */
function split(args: string[] = []): string[] {
  return args.flatMap((a) => (a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a]));
}

describe('docker-compose.yml agrees with cli/lab/spec.ts', () => {
  const spec = composeLabSpec();

  it('has the lab network with the address plan', () => {
    const net = compose.networks.kubelab;
    expect(net?.name).toBe(spec.network);
    expect(net?.ipam.config[0]?.subnet).toBe(spec.subnet);
    expect(net?.ipam.config[0]?.ip_range).toBe(addressPlan(spec).podRange);
    expect(net?.labels['io.kubelab.cluster']).toBe(spec.cluster);
  });

  it('keeps etcd on the internal control-plane network with only the apiserver, as the test clusters do', () => {
    const cp = (compose.networks as Record<string, { name: string; internal?: boolean; labels: Record<string, string> }>)['control-plane'];
    expect(cp?.name).toBe(controlPlaneNetwork(spec));
    expect(cp?.internal).toBe(true);
    expect(cp?.labels).toEqual(controlPlaneNetworkLabels(spec));
    const on = Object.entries(compose.services)
      .filter(([, svc]) => (Array.isArray(svc.networks) ? svc.networks : Object.keys(svc.networks ?? {})).includes('control-plane'))
      .map(([name]) => name);
    expect(on.sort()).toEqual(['apiserver', 'etcd']);
    expect(compose.services.etcd?.networks).toEqual(['control-plane']);
    expect(componentContainer(spec, 'etcd').HostConfig?.NetworkMode).toBe(controlPlaneNetwork(spec));
  });

  it('passes the same flags as the test clusters and `node add`', () => {
    for (const c of ['apiserver', 'dns', 'ingress', 'dashboard'] as const) expect(split(compose.services[c]?.command), c).toEqual(componentArgs(spec, c));
    expect((compose.services.ingress as { image?: string } | undefined)?.image).toBe(spec.ingressImage);
    expect((compose.services.ingress as { ports?: string[] } | undefined)?.ports).toEqual([
      `127.0.0.1:${spec.ingressHostPorts.http}:${PORTS.ingressHttp}`,
      `127.0.0.1:${spec.ingressHostPorts.https}:${PORTS.ingressHttps}`,
    ]);
    for (const c of ['scheduler', 'controller-manager'] as const) {
      for (const r of [1, 2]) {
        const s = compose.services[`${c}-${r}`];
        expect(split(s?.command), `${c}-${r}`).toEqual(componentArgs(spec, c));
        expect(s?.container_name).toBe(`${spec.prefix}${c}-${r}`);
      }
    }
    expect(split(compose.services.etcd?.command)).toEqual(componentArgs(spec, 'etcd'));
    for (let n = 1; n <= 3; n++) {
      const w = compose.services[workerName(n)];
      expect(split(w?.command)).toEqual(componentArgs(spec, 'node', workerName(n), workerIp(spec, n)));
      expect(w?.labels?.['io.kubelab.worker']).toBe(workerName(n));
      expect(w?.container_name).toBe(`${spec.prefix}${workerName(n)}`);
    }
  });

  it('gives the controller-managers the Docker socket exactly when the test clusters do', () => {
    const binds = componentContainer(spec, 'controller-manager').HostConfig?.Binds ?? [];
    for (const r of [1, 2]) expect(((compose.services[`controller-manager-${r}`] as Service & { volumes?: string[] }).volumes ?? []).filter((v) => v.includes('docker.sock'))).toEqual(binds);
    expect(compose.networks.kubelab?.labels['io.kubelab.timing']).toBe(spec.timing);
  });

  // A service's own `volumes:` replaces the anchor's (YAML merge keys do not merge lists): the controller-
  // managers once lost the PKI mount that way and restarted forever on "cannot read …/ca.crt".
  it('mounts the PKI into every service whose flags name a file in it', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      const args = split((s as Service).command);
      if (!args.some((a) => a.includes(`${PKI_PATH}/`))) continue;
      expect((s as Service & { volumes?: string[] }).volumes ?? [], name).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^\\./\\.kubelab/pki:${PKI_PATH}(:ro)?$`))]));
    }
  });

  it('`lab up` starts every non-worker service of the file (the ingress once was missing) and the asked workers', () => {
    const file = new URL('../../docker-compose.yml', import.meta.url).pathname;
    const services = labServices(['worker-1', 'worker-2'], file);
    expect(services).toEqual(expect.arrayContaining(['pki', 'etcd', 'apiserver', 'ingress', 'dashboard', 'dns', 'reaper', 'worker-1', 'worker-2']));
    expect(services).not.toContain('worker-3');
    expect(new Set(services).size).toBe(services.length);
  });

  it('labels every service with the cluster', () => {
    for (const [name, s] of Object.entries(compose.services)) expect(s.labels?.['io.kubelab.cluster'], name).toBe(spec.cluster);
  });

  it('generates extra workers on the next addresses', () => {
    const spec = composeLabSpec();
    const o = parse(workersOverride(5)) as { services: Record<string, Service> };
    expect(Object.keys(o.services)).toEqual(['worker-4', 'worker-5']);
    const w5 = o.services['worker-5'] as Service & { depends_on?: unknown; volumes?: string[]; hostname?: string };
    expect((w5.networks as Record<string, { ipv4_address: string }>).kubelab?.ipv4_address).toBe('10.213.0.25');
    expect(w5.hostname).toBe('worker-5');
    expect(split(w5.command)).toEqual(componentArgs(spec, 'node', 'worker-5', '10.213.0.25'));
    expect(w5.depends_on).toEqual(compose.services['worker-1'] && (compose.services['worker-1'] as { depends_on?: unknown }).depends_on);
    expect(w5.volumes).toEqual(['/var/run/docker.sock:/var/run/docker.sock', './.kubelab/pki:/etc/kubernetes/pki:ro']);
  });

  it('checks health the same way as the test clusters (a cheap bash check, not a node process)', () => {
    const ports: Record<string, number> = {
      apiserver: PORTS.apiserverAdmin,
      'scheduler-1': PORTS.scheduler,
      'controller-manager-1': PORTS.controllerManager,
      dns: PORTS.dnsAdmin,
      ingress: PORTS.ingressAdmin,
      dashboard: PORTS.dashboard,
      'worker-1': PORTS.kubeletAdmin,
    };
    for (const [service, port] of Object.entries(ports)) expect(compose.services[service]?.healthcheck?.test, service).toEqual(httpHealthcheck(port)?.Test);
  });

  it('checks health as rarely as the test clusters: every check is a runc exec, ~0.1 s of CPU', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (!service.healthcheck) continue;
      expect(service.healthcheck.interval, name).toBe(`${HEALTHCHECK_INTERVAL_MS / 1000}s`);
      expect(service.healthcheck.retries, name).toBe(httpHealthcheck(1)?.Retries);
    }
    expect(httpHealthcheck(1)?.Interval).toBe(HEALTHCHECK_INTERVAL_MS * 1_000_000);
  });

  it('`lab up --verbose` prints every phase in order with its seconds and share', () => {
    const table = phasesTable([{ phase: 'docker compose up', seconds: 9.84 }, { phase: 'nodes Ready, components healthy', seconds: 6.6 }], 16.5);
    expect(table.split('\n')).toEqual([
      'where the time went (lab up, 16.5 s in all):',
      '  docker compose up                   9.8 s   60 %',
      '  nodes Ready, components healthy     6.6 s   40 %',
      '  total                              16.5 s',
    ]);
  });
});
