import { describe, expect, it } from 'vitest';
import type { core } from '../api/types.js';
import { envVarName, fromServices, resolveEnv, serviceEnv, type EnvContext, type ObjectFetcher } from './env.js';

const svc = (namespace: string, name: string, clusterIP: string | undefined, ports: core.ServicePort[]): core.Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace },
  spec: { ...(clusterIP !== undefined ? { clusterIP } : {}), ports },
});

const kubernetes = svc('default', 'kubernetes', '10.96.0.1', [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }]);

describe('fromServices', () => {
  it('writes the variables of kubelet envvars.go for each port', () => {
    const vars = fromServices([
      svc('ns', 'my-web', '10.96.0.7', [
        { port: 80, targetPort: 8080 },
        { name: 'metrics-port', port: 9090, protocol: 'UDP' },
      ]),
    ]);
    expect(vars).toEqual([
      ['MY_WEB_SERVICE_HOST', '10.96.0.7'],
      ['MY_WEB_SERVICE_PORT', '80'],
      ['MY_WEB_SERVICE_PORT_METRICS_PORT', '9090'],
      ['MY_WEB_PORT', 'tcp://10.96.0.7:80'],
      ['MY_WEB_PORT_80_TCP', 'tcp://10.96.0.7:80'],
      ['MY_WEB_PORT_80_TCP_PROTO', 'tcp'],
      ['MY_WEB_PORT_80_TCP_PORT', '80'],
      ['MY_WEB_PORT_80_TCP_ADDR', '10.96.0.7'],
      ['MY_WEB_PORT_9090_UDP', 'udp://10.96.0.7:9090'],
      ['MY_WEB_PORT_9090_UDP_PROTO', 'udp'],
      ['MY_WEB_PORT_9090_UDP_PORT', '9090'],
      ['MY_WEB_PORT_9090_UDP_ADDR', '10.96.0.7'],
    ]);
  });

  it('skips headless services and services without a ClusterIP; brackets IPv6 addresses', () => {
    expect(fromServices([svc('ns', 'headless', 'None', [{ port: 80 }]), svc('ns', 'ext', undefined, [{ port: 80 }])])).toEqual([]);
    expect(new Map(fromServices([svc('ns', 'v6', 'fd00::7', [{ port: 80 }])])).get('V6_PORT')).toBe('tcp://[fd00::7]:80');
  });

  it('upper-cases names and turns - into _', () => {
    expect(envVarName('redis-primary')).toBe('REDIS_PRIMARY');
  });
});

describe('serviceEnv', () => {
  const web = svc('shop', 'web', '10.96.0.9', [{ port: 80 }]);
  it('gives the services of the pod namespace and the kubernetes service of default', () => {
    const env = serviceEnv('shop', true, [web], [kubernetes, svc('default', 'other', '10.96.0.3', [{ port: 1 }])]);
    expect(env.get('WEB_SERVICE_HOST')).toBe('10.96.0.9');
    expect(env.get('WEB_SERVICE_PORT')).toBe('80');
    expect(env.get('KUBERNETES_SERVICE_HOST')).toBe('10.96.0.1');
    expect(env.get('KUBERNETES_SERVICE_PORT_HTTPS')).toBe('443');
    expect(env.has('OTHER_SERVICE_HOST')).toBe(false);
  });

  it('with enableServiceLinks false gives only the kubernetes service', () => {
    const env = serviceEnv('shop', false, [web], [kubernetes]);
    expect(env.has('WEB_SERVICE_HOST')).toBe(false);
    expect(env.get('KUBERNETES_SERVICE_HOST')).toBe('10.96.0.1');
  });

  it('in default, gives every service of default once', () => {
    const other = svc('default', 'other', '10.96.0.3', [{ port: 1 }]);
    const env = serviceEnv('default', true, [kubernetes, other], [kubernetes, other]);
    expect(env.get('OTHER_SERVICE_HOST')).toBe('10.96.0.3');
    expect(env.get('KUBERNETES_SERVICE_HOST')).toBe('10.96.0.1');
  });
});

describe('resolveEnv with Service variables', () => {
  const ctx: EnvContext = {
    pod: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'shop' }, spec: { containers: [] } },
    hostIp: '10.0.0.1',
    nodeCpuMillis: 2000,
    nodeMemoryBytes: 1 << 30,
  };
  const fetch = {} as ObjectFetcher;
  const services = new Map([
    ['WEB_SERVICE_HOST', '10.96.0.9'],
    ['WEB_SERVICE_PORT', '80'],
  ]);

  it('adds them after the container env, which overrides them and may refer to them', async () => {
    const env = await resolveEnv(
      {
        name: 'c',
        env: [
          { name: 'WEB_SERVICE_PORT', value: '8080' },
          { name: 'URL', value: 'http://$(WEB_SERVICE_HOST):$(WEB_SERVICE_PORT)/' },
        ],
      },
      ctx,
      fetch,
      services,
    );
    expect(env).toEqual(['WEB_SERVICE_PORT=8080', 'URL=http://10.96.0.9:8080/', 'WEB_SERVICE_HOST=10.96.0.9']);
  });
});
