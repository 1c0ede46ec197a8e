import { describe, expect, it } from 'vitest';
import type { core } from '../client/types.js';
import { tmpfsOptions } from './runtime/docker.js';
import { emptyDirMemoryBytes, isMemoryEmptyDir } from './volumes.js';

const GI = 1024 ** 3;
const MI = 1024 ** 2;

const pod = (containers: core.Container[], initContainers: core.Container[] = []): core.Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'ns', uid: 'u' },
  spec: { containers, ...(initContainers.length ? { initContainers } : {}) },
});
const ct = (name: string, memory?: string): core.Container => ({ name, image: 'busybox', ...(memory ? { resources: { limits: { memory } } } : {}) });
const mem = (sizeLimit?: string): core.Volume => ({ name: 'cache', emptyDir: { medium: 'Memory', ...(sizeLimit ? { sizeLimit } : {}) } });

describe('emptyDirMemoryBytes', () => {
  it('is the node memory when neither the pod nor the volume sets a limit', () => {
    expect(emptyDirMemoryBytes(pod([ct('a')]), mem(), 4 * GI)).toBe(4 * GI);
  });

  it('is the sizeLimit when smaller than what the pod may use', () => {
    expect(emptyDirMemoryBytes(pod([ct('a')]), mem('64Mi'), 4 * GI)).toBe(64 * MI);
    expect(emptyDirMemoryBytes(pod([ct('a', '32Mi')]), mem('64Mi'), 4 * GI)).toBe(32 * MI);
  });

  it('is the pod memory limit (sum of app containers, at least the largest init) when every container sets one', () => {
    expect(emptyDirMemoryBytes(pod([ct('a', '100Mi'), ct('b', '28Mi')]), mem(), 4 * GI)).toBe(128 * MI);
    expect(emptyDirMemoryBytes(pod([ct('a', '100Mi')], [ct('i', '200Mi')]), mem(), 4 * GI)).toBe(200 * MI);
    expect(emptyDirMemoryBytes(pod([ct('a', '100Mi'), ct('b')]), mem(), 4 * GI)).toBe(4 * GI);
  });

  it('never exceeds the node memory', () => {
    expect(emptyDirMemoryBytes(pod([ct('a')]), mem('16Gi'), 4 * GI)).toBe(4 * GI);
  });
});

describe('memory-backed emptyDir', () => {
  it('is recognised by medium Memory only', () => {
    expect(isMemoryEmptyDir(mem())).toBe(true);
    expect(isMemoryEmptyDir({ name: 'd', emptyDir: {} })).toBe(false);
  });

  it('is a local-driver tmpfs volume sized in bytes', () => {
    expect(tmpfsOptions(64 * MI)).toEqual({ type: 'tmpfs', device: 'tmpfs', o: `size=${64 * MI}` });
    expect(tmpfsOptions(undefined)).toEqual({ type: 'tmpfs', device: 'tmpfs' });
  });
});
