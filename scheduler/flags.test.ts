import { describe, expect, it } from 'vitest';
import { parseComponentConfig } from '../component-base/process.js';
import { schedulerComponent } from './main.js';

const parse = (...argv: string[]) => parseComponentConfig(schedulerComponent, argv, {});

describe('scheduler flags', () => {
  it('fills every default', () => {
    expect(parse()).toMatchObject({ adminPort: 10259, schedulerName: 'default-scheduler', leaderElect: true, leaseDurationMs: 15_000, bindConcurrency: 64, scheduledEvents: true });
  });

  it('reads each kind of flag into the config', () => {
    const cfg = parse('--apiserver', '10.0.0.3:7443', '--leader-elect=false', '--scheduled-events=false', '--pod-max-backoff', '1m', '--percentage-of-nodes-to-score', '40');
    expect(cfg).toMatchObject({ apiserver: '10.0.0.3:7443', leaderElect: false, scheduledEvents: false, podMaxBackoffMs: 60_000, percentageOfNodesToScore: 40 });
    expect(parse('--leader-elect').leaderElect).toBe(true);
  });

  it('takes --apiserver from KUBELAB_APISERVER when the flag is absent', () => {
    expect(parseComponentConfig(schedulerComponent, [], { KUBELAB_APISERVER: 'api:7443' }).apiserver).toBe('api:7443');
  });

  it.each([
    [['--leader-elect=maybe'], '--leader-elect: "maybe" is not a boolean'],
    [['--admin-port', 'http'], '--admin-port: "http" is not an integer'],
    [['--pod-initial-backoff', 'later'], '--pod-initial-backoff: "later" is not a duration'],
    [['--bind-concurrency', '0'], '--bind-concurrency: must be at least 1'],
    [['--leader-elect-lease-duration', '1s'], '--leader-elect-lease-duration: must be longer than --leader-elect-renew-deadline'],
  ])('refuses %j naming the flag and the reason', (argv, message) => {
    expect(() => parse(...argv)).toThrow(message);
  });
});
