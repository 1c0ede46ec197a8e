import { describe, expect, it } from 'vitest';
import { parseComponentConfig } from '../component-base/process.js';
import { controllerManagerComponent } from './main.js';

const parse = (...argv: string[]) => parseComponentConfig(controllerManagerComponent, argv, {});

describe('controller-manager flags', () => {
  it('fills every default from the default preset', () => {
    expect(parse()).toMatchObject({ adminPort: 10257, timing: 'default', leaderElect: true, forceDeleteLostPods: false, nodeMonitorGracePeriodMs: 40_000 });
  });

  it('reads each kind of flag into the config', () => {
    const cfg = parse('--leader-elect=false', '--force-delete-lost-pods', '--node-eviction-rate', '0.5', '--concurrent-syncs', '3', '--node-monitor-grace-period', '8s');
    expect(cfg).toMatchObject({ leaderElect: false, forceDeleteLostPods: true, nodeEvictionRate: 0.5, workers: 3, nodeMonitorGracePeriodMs: 8000 });
    expect(parseComponentConfig(controllerManagerComponent, [], { KUBELAB_TIMING: 'lab' }).timing).toBe('lab');
  });

  it.each([
    [['--leader-elect', 'yes'], '--leader-elect: "yes" is not a boolean'],
    [['--node-eviction-rate', 'fast'], '--node-eviction-rate: "fast" is not a number'],
    [['--concurrent-syncs', 'two'], '--concurrent-syncs: "two" is not an integer'],
    [['--timing', 'fast'], '--timing: "fast" is not a preset'],
    [['--controllers', 'replicaset,nosuch'], '--controllers'],
  ])('refuses %j naming the flag and the reason', (argv, message) => {
    expect(() => parse(...argv)).toThrow(message);
  });
});
