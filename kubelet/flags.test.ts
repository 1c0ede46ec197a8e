import { describe, expect, it } from 'vitest';
import { parseComponentConfig } from '../component-base/process.js';
import { kubeletComponent } from './main.js';

const parse = (...argv: string[]) => parseComponentConfig(kubeletComponent, ['--node-name', 'n1', ...argv], {});

describe('kubelet flags', () => {
  it('fills every default', () => {
    expect(parse()).toMatchObject({ apiserver: '127.0.0.1:7443', nodeName: 'n1', port: 10250, adminPort: 10248, runtime: 'docker', maxPods: 110, fileCheckFrequencyMs: 5000 });
  });

  it('reads flags and the environment into the config', () => {
    const cfg = parse('--runtime', 'hollow', '--max-pods', '7', '--node-labels', 'a=b', '--register-with-taints', 'k=v:NoSchedule', '--crash-loop-backoff-max', '1m');
    expect(cfg).toMatchObject({ runtime: 'hollow', maxPods: 7, nodeLabels: { a: 'b' }, taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }], crashLoopBackoffMaxMs: 60_000 });
    const env = parseComponentConfig(kubeletComponent, [], { KUBELAB_NODE_NAME: 'worker-1', KUBELAB_NODE_IP: '10.213.0.21' });
    expect(env).toMatchObject({ nodeName: 'worker-1', nodeIp: '10.213.0.21' });
  });

  it.each([
    [['--runtime', 'containerd'], '--runtime: "containerd" is not one of docker, hollow'],
    [['--timing', 'fast'], '--timing: "fast" is not one of default, lab'],
    [['--max-pods', 'many'], '--max-pods: "many" is not an integer'],
    [['--node-lease-duration', '500ms'], '--node-lease-duration: must be at least 1s'],
    [['--cpu', 'lots'], '--cpu: "lots" is not a quantity'],
  ])('refuses %j naming the flag and the reason', (argv, message) => {
    expect(() => parse(...argv)).toThrow(message);
  });
});
