import { describe, expect, it } from 'vitest';
import type { core } from '../api/types.js';
import { tmpfsOptions } from './runtime/docker.js';
import { atomicLayout, emptyDirMemoryBytes, filesDigest, isMemoryEmptyDir } from './volumes.js';

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

describe('atomic writer layout', () => {
  const files = [
    { path: 'index.html', data: Buffer.from('v1'), mode: 0o644 },
    { path: 'conf/app.ini', data: Buffer.from('x=1'), mode: 0o600 },
  ];

  it('puts the files in a timestamped directory, links ..data to it and each top-level name into ..data', () => {
    const out = atomicLayout(files, new Date('2026-11-22T02:45:00.123Z'));
    const dir = '..2026_11_22_02_45_00.123';
    expect(out.filter((f) => !f.linkTarget).map((f) => [f.path, f.data.toString(), f.mode])).toEqual([
      [`${dir}/index.html`, 'v1', 0o644],
      [`${dir}/conf/app.ini`, 'x=1', 0o600],
    ]);
    expect(out.filter((f) => f.linkTarget).map((f) => [f.path, f.linkTarget])).toEqual([
      ['..data', dir],
      ['index.html', '..data/index.html'],
      ['conf', '..data/conf'],
    ]);
  });

  it('gives the same digest for the same content in any order, and another one for any change', () => {
    const d = filesDigest(files);
    expect(filesDigest([...files].reverse())).toBe(d);
    expect(filesDigest([{ ...files[0], data: Buffer.from('v2') }, files[1]])).not.toBe(d);
    expect(filesDigest([{ ...files[0], mode: 0o600 }, files[1]])).not.toBe(d);
    expect(filesDigest([files[0]])).not.toBe(d);
  });
});
