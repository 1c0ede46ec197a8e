import { describe, expect, it } from 'vitest';
import { parseComponentConfig } from '../component-base/process.js';
import { ingressComponent } from './main.js';

const parse = (...argv: string[]) => parseComponentConfig(ingressComponent, argv, {});

describe('ingress flags', () => {
  it('fills every default', () => {
    expect(parse('--publish-status-address', '10.0.0.11')).toMatchObject({
      controllerClass: 'k8s.io/ingress-nginx',
      ingressClass: 'nginx',
      defaultClass: false,
      httpPort: 80,
      httpsPort: 443,
      minSyncPeriodMs: 100,
      adminPort: 10254,
      workerProcesses: 'auto',
    });
  });

  it('reads what the lab passes', () => {
    const cfg = parse('--apiserver=10.213.0.3:7443', '--publish-status-address=10.213.0.11', '--default-class', '--min-sync-period', '250ms', '--worker-processes', '2');
    expect(cfg).toMatchObject({ apiserver: '10.213.0.3:7443', publishStatusAddress: '10.213.0.11', defaultClass: true, minSyncPeriodMs: 250, workerProcesses: 2 });
  });

  it.each([
    [['--http-port', 'eighty'], '--http-port: "eighty" is not an integer'],
    [['--default-class=perhaps'], '--default-class: "perhaps" is not a boolean'],
    [['--min-sync-period', '5s'], '--min-sync-period: must be between 0 and 1s'],
    [['--http-port', '8443', '--https-port', '8443'], '--https-port: must differ from --http-port'],
    [['--controller-class', 'nginx'], '--controller-class: "nginx" is not a domain-prefixed path'],
  ])('refuses %j naming the flag and the reason', (argv, message) => {
    expect(() => parse('--publish-status-address', '10.0.0.11', ...argv)).toThrow(message);
  });
});
