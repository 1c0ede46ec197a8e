import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { core, discovery, networking } from '../api/types.js';
import { buildModel, isOurs, locationMatches, ownClasses, tlsPem, type ModelInput } from './model.js';
import { renderNginxConf } from './nginxconf.js';
import { compileIngressConfig } from './config.js';

const CTRL = 'k8s.io/ingress-nginx';
const cls = (name: string, controller = CTRL, isDefault = false): networking.IngressClass => ({
  metadata: { name, ...(isDefault ? { annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } : {}) },
  spec: { controller },
});
const svc = (name: string, ports: core.ServicePort[] = [{ name: 'http', port: 80 }], ns = 'default'): core.Service => ({ metadata: { name, namespace: ns }, spec: { ports } });
const slice = (svcName: string, ips: [string, boolean][], port = 8080, portName = 'http', ns = 'default'): discovery.EndpointSlice => ({
  metadata: { name: `${svcName}-x`, namespace: ns, labels: { 'kubernetes.io/service-name': svcName } },
  addressType: 'IPv4',
  ports: [{ name: portName, port }],
  endpoints: ips.map(([ip, ready]) => ({ addresses: [ip], conditions: { ready } })),
});
const ing = (name: string, spec: networking.IngressSpec, created = '2026-01-01T00:00:00Z', ns = 'default'): networking.Ingress => ({
  metadata: { name, namespace: ns, creationTimestamp: created },
  spec: { ingressClassName: 'nginx', ...spec },
});
const be = (name: string, port: number | string = 80): networking.IngressBackend => ({ service: { name, port: typeof port === 'number' ? { number: port } : { name: port } } });
const input = (over: Partial<ModelInput>): ModelInput => ({
  ingresses: [],
  classes: [cls('nginx')],
  services: [svc('web'), svc('api')],
  slices: [slice('web', [['10.1.64.2', true], ['10.1.64.3', false]]), slice('api', [['10.1.64.9', true]])],
  secrets: [],
  controller: CTRL,
  ...over,
});

describe('IngressClass selection', () => {
  it('serves Ingresses naming one of its classes, and class-less ones only when one of its classes is the default', () => {
    const own = ownClasses([cls('nginx'), cls('other', 'example.com/other', true)], CTRL);
    expect(isOurs({ spec: { ingressClassName: 'nginx' } }, own)).toBe(true);
    expect(isOurs({ spec: { ingressClassName: 'other' } }, own)).toBe(false);
    expect(isOurs({ spec: {} }, own)).toBe(false);
    expect(isOurs({ metadata: { annotations: { 'kubernetes.io/ingress.class': 'nginx' } }, spec: {} }, own)).toBe(true);
    expect(isOurs({ spec: {} }, ownClasses([cls('nginx', CTRL, true)], CTRL))).toBe(true);
  });
});

describe('locations follow the Kubernetes path types', () => {
  it('Exact is one exact match; Prefix matches the path and below by element; ImplementationSpecific is nginx prefix', () => {
    expect(locationMatches('Exact', '/foo')).toEqual(['= /foo']);
    expect(locationMatches('Prefix', '/foo')).toEqual(['= /foo', '/foo/']);
    expect(locationMatches('Prefix', '/foo/')).toEqual(['= /foo', '/foo/']);
    expect(locationMatches('Prefix', '/')).toEqual(['/']);
    expect(locationMatches('ImplementationSpecific', '/foo')).toEqual(['/foo']);
    expect(locationMatches('ImplementationSpecific', '')).toEqual(['/']);
  });
});

describe('buildModel', () => {
  it('routes hosts and paths to the ready endpoints of the Service port', () => {
    const m = buildModel(
      input({
        ingresses: [
          ing('a', {
            rules: [
              { host: 'a.example', http: { paths: [{ path: '/api', pathType: 'Prefix', backend: be('api', 'http') }, { path: '/', pathType: 'Prefix', backend: be('web') }] } },
              { http: { paths: [{ path: '/x', pathType: 'Exact', backend: be('web') }] } },
            ],
          }),
        ],
      }),
    );
    expect(m.accepted).toEqual(['default/a']);
    expect(m.upstreams).toEqual([
      { name: 'default-api-http', endpoints: [{ ip: '10.1.64.9', port: 8080 }] },
      { name: 'default-web-80', endpoints: [{ ip: '10.1.64.2', port: 8080 }] },
    ]);
    const a = m.servers.find((s) => s.host === 'a.example');
    expect(a?.locations.map((l) => [l.match, 'upstream' in l.target ? l.target.upstream : l.target.status])).toEqual([
      ['/', 'default-web-80'],
      ['/api/', 'default-api-http'],
      ['= /api', 'default-api-http'],
    ]);
    const def = m.servers.find((s) => s.host === '');
    expect(def?.locations.map((l) => [l.match, 'upstream' in l.target ? l.target.upstream : l.target.status])).toEqual([
      ['/', 404],
      ['= /x', 'default-web-80'],
    ]);
  });

  it('gives the older Ingress a contested location, and Exact beats Prefix for the same path', () => {
    const m = buildModel(
      input({
        ingresses: [
          ing('new', { rules: [{ host: 'h.example', http: { paths: [{ path: '/p', pathType: 'Prefix', backend: be('api') }] } }] }, '2026-01-02T00:00:00Z'),
          ing('old', { rules: [{ host: 'h.example', http: { paths: [{ path: '/p', pathType: 'Prefix', backend: be('web') }, { path: '/p', pathType: 'Exact', backend: be('api') }] } }] }, '2026-01-01T00:00:00Z'),
        ],
      }),
    );
    const h = m.servers.find((s) => s.host === 'h.example');
    expect(h?.locations.map((l) => [l.match, l.ingress])).toEqual([
      ['/', ''],
      ['/p/', 'default/old'],
      ['= /p', 'default/old'],
    ]);
    expect(h?.locations.find((l) => l.match === '= /p')?.target).toEqual({ upstream: 'default-api-80' });
  });

  it('answers 503 for a missing Service, port or endpoints, with a warning, and serves the rest', () => {
    const m = buildModel(
      input({
        ingresses: [
          ing('x', {
            rules: [
              {
                host: 'x.example',
                http: {
                  paths: [
                    { path: '/ghost', pathType: 'Prefix', backend: be('ghost') },
                    { path: '/badport', pathType: 'Prefix', backend: be('web', 81) },
                    { path: '/', pathType: 'Prefix', backend: be('web') },
                  ],
                },
              },
            ],
          }),
        ],
        services: [svc('web'), svc('empty')],
      }),
    );
    const x = m.servers.find((s) => s.host === 'x.example');
    expect(x?.locations.find((l) => l.match === '/ghost/')?.target).toEqual({ status: 503, reason: 'service not found' });
    expect(x?.locations.find((l) => l.match === '/badport/')?.target).toEqual({ status: 503, reason: 'port not found' });
    expect(x?.locations.find((l) => l.match === '/')?.target).toEqual({ upstream: 'default-web-80' });
    expect(m.warnings.map((w) => w.message)).toEqual(['service "default/ghost" not found', 'service "default/web" has no port 81']);
  });

  it('refuses an Ingress whose path could break the configuration, naming the field, and keeps the others', () => {
    for (const path of ['/a;}', '/a b', '/a"', '/a{', '/$host', '/a\\n', '/a\nb']) {
      const m = buildModel(
        input({
          ingresses: [
            ing('evil', { rules: [{ host: 'e.example', http: { paths: [{ path, pathType: 'ImplementationSpecific', backend: be('web') }] } }] }),
            ing('good', { rules: [{ host: 'g.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: be('web') }] } }] }),
          ],
        }),
      );
      expect(m.accepted, path).toEqual(['default/good']);
      expect(m.refused[0]?.message, path).toContain('spec.rules[0].http.paths[0].path');
      expect(renderNginxConf(m, opts)).not.toContain(path);
    }
  });

  it('uses a TLS Secret only when it holds a matching PEM certificate and key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ingress-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=s.example', '-keyout', join(dir, 'k'), '-out', join(dir, 'c')], { stdio: 'ignore' });
      execFileSync('openssl', ['genrsa', '-out', join(dir, 'k2'), '2048'], { stdio: 'ignore' });
      const b64 = (f: string): string => readFileSync(join(dir, f)).toString('base64');
      const secret = (data: Record<string, string>): core.Secret => ({ metadata: { name: 's', namespace: 'default' }, type: 'kubernetes.io/tls', data });
      const good = tlsPem(secret({ 'tls.crt': b64('c'), 'tls.key': b64('k') }), 'default/s');
      expect('pem' in good && good.pem).toMatch(/^-----BEGIN CERTIFICATE-----[\s\S]+-----BEGIN PRIVATE KEY-----[\s\S]+-----END PRIVATE KEY-----\n$/);
      expect(tlsPem(undefined, 'default/s')).toEqual({ error: 'TLS Secret "default/s" not found' });
      expect(tlsPem(secret({ 'tls.key': b64('k') }), 'default/s')).toEqual({ error: 'TLS Secret "default/s": data[tls.crt] is missing' });
      expect(tlsPem(secret({ 'tls.crt': Buffer.from('garbage').toString('base64'), 'tls.key': b64('k') }), 'default/s')).toEqual({ error: 'TLS Secret "default/s": data[tls.crt] is not a PEM certificate' });
      expect(tlsPem(secret({ 'tls.crt': b64('c'), 'tls.key': Buffer.from('}; include /etc/passwd;').toString('base64') }), 'default/s')).toEqual({ error: 'TLS Secret "default/s": data[tls.key] is not a PEM private key' });
      expect(tlsPem(secret({ 'tls.crt': b64('c'), 'tls.key': b64('k2') }), 'default/s')).toEqual({ error: 'TLS Secret "default/s": data[tls.key] does not match the certificate in data[tls.crt]' });

      const m = buildModel(
        input({
          ingresses: [ing('t', { tls: [{ hosts: ['s.example'], secretName: 's' }, { hosts: ['bad.example'], secretName: 'nope' }], rules: [{ host: 's.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: be('web') }] } }] })],
          secrets: [secret({ 'tls.crt': b64('c'), 'tls.key': b64('k') })],
        }),
      );
      expect(m.servers.find((s) => s.host === 's.example')?.tlsCert).toBe('default-s');
      expect(m.servers.find((s) => s.host === 'bad.example')?.tlsCert).toBeUndefined();
      expect(m.certificates.map((c) => c.key)).toEqual(['default-s']);
      expect(m.warnings.map((w) => w.message)).toEqual(['TLS Secret "default/nope" not found; the hosts bad.example are served with the default certificate']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sends what no rule matches to the Ingress default backend', () => {
    const m = buildModel(input({ ingresses: [ing('d', { defaultBackend: be('api') })] }));
    expect(m.servers.find((s) => s.host === '')?.locations).toEqual([{ match: '/', target: { upstream: 'default-api-80' }, ingress: 'default/d' }]);
  });
});

const opts = { httpPort: 80, httpsPort: 443, certDir: '/c', pidFile: '/p', workerProcesses: 'auto' as const };

describe('renderNginxConf', () => {
  it('renders upstreams, servers (wildcards as one-label regexes) and fixed answers, and is stable', () => {
    const model = buildModel(
      input({
        ingresses: [
          ing('w', { rules: [{ host: '*.w.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: be('web') }, { path: '/none', pathType: 'Exact', backend: be('ghost') }] } }] }),
        ],
      }),
    );
    const text = renderNginxConf(model, opts);
    // As ingress-nginx (upstream-max-fails 0): a failed request never takes a Service's endpoint out.
    expect(text).toContain('upstream default-web-80 {\n    server 10.1.64.2:8080 max_fails=0;\n    keepalive 32;\n    keepalive_timeout 4s;\n  }');
    expect(text).toContain('server_name ~^[^.]+\\.w\\.example$;');
    expect(text).toContain('listen 80 default_server;');
    expect(text).toContain('return 503 "503 Service Temporarily Unavailable (service not found)\\n";');
    expect(text).not.toContain('10.1.64.3');
    expect(renderNginxConf(buildModel(input({ ingresses: model.accepted.length ? [ing('w', { rules: [{ host: '*.w.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: be('web') }, { path: '/none', pathType: 'Exact', backend: be('ghost') }] } }] })] : [] })), opts)).toBe(text);
  });
});

describe('compileIngressConfig', () => {
  it('fills defaults and names the flag of a bad value', () => {
    const c = compileIngressConfig({ publishStatusAddress: '10.0.0.11' });
    expect(c).toMatchObject({ controllerClass: CTRL, ingressClass: 'nginx', httpPort: 80, httpsPort: 443, minSyncPeriodMs: 100, adminPort: 10254 });
    expect(() => compileIngressConfig({ httpPort: 0 })).toThrow(/^--http-port: must be a port number/);
    expect(() => compileIngressConfig({ httpPort: 8080, httpsPort: 8080 })).toThrow(/^--https-port: must differ/);
    expect(() => compileIngressConfig({ controllerClass: 'nginx' })).toThrow(/^--controller-class: "nginx" is not a domain-prefixed path/);
    expect(() => compileIngressConfig({ minSyncPeriodMs: 5000 })).toThrow(/^--min-sync-period: must be between 0 and 1s/);
    expect(() => compileIngressConfig({ workerProcesses: 'many' })).toThrow(/^--worker-processes:/);
    expect(() => compileIngressConfig({ publishStatusAddress: 'a b' })).toThrow(/^--publish-status-address:/);
  });
});

