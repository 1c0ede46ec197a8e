import { describe, expect, it } from 'vitest';
import { parseComponentConfig } from '../client/process.js';
import { ingressComponent } from './main.js';

const parse = (...argv: string[]) => parseComponentConfig(ingressComponent, ['--publish-status-address', '10.0.0.5', ...argv], {});

describe('ingress flags', () => {
  it('fills every default', () => {
    expect(parse()).toMatchObject({ controllerClass: 'k8s.io/ingress-nginx', ingressClass: 'nginx', defaultClass: false, nginxBinary: 'nginx', confDir: '/etc/nginx/kubelab' });
  });

  it('reads each kind of flag into the config', () => {
    expect(parse('--default-class', '--http-port', '8080', '--sync-period', '30s')).toMatchObject({ defaultClass: true, httpPort: 8080, syncPeriodMs: 30_000 });
    expect(parse('--default-class=false').defaultClass).toBe(false);
  });

  it.each([
    [['--default-class=yes'], '--default-class: "yes" is not a boolean'],
    [['--http-port', 'eighty'], '--http-port: "eighty" is not an integer'],
    [['--min-sync-period', '5s'], '--min-sync-period: must be between 0 and 1s'],
  ])('refuses %j naming the flag and the reason', (argv, message) => {
    expect(() => parse(...argv)).toThrow(message);
  });
});
