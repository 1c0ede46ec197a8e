import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../client/api.js';
import type { core } from '../api/types.js';
import { realClock } from '../component-base/clock.js';
import { nullLogger } from '../component-base/log.js';
import { compileKubeletConfig } from './config.js';
import { HollowRuntime } from './runtime/hollow.js';
import type { VolumeFile } from './runtime/types.js';
import { VolumeManager } from './volumemanager.js';

/** An API that serves one ConfigMap per namespace and counts the reads (the apiserver's load). */
function api(data: Record<string, string>): { client: ApiClient; gets: string[] } {
  const gets: string[] = [];
  const client = {
    get: (resource: string, name: string, opts: { namespace?: string }) => {
      gets.push(`${resource} ${opts.namespace}/${name}`);
      return Promise.resolve({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: opts.namespace }, data: { ...data } });
    },
  } as unknown as ApiClient;
  return { client, gets };
}

const pod = (ns: string, i: number): core.Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: `p${i}`, namespace: ns, uid: `${ns}-${i}` },
  spec: { containers: [{ name: 'c', image: 'kubelab/pause:latest' }], volumes: [{ name: 'cfg', configMap: { name: 'settings' } }] },
  status: { phase: 'Running' },
});

describe('VolumeManager.refresh (the periodic configMap/secret volume sync)', () => {
  it('reads each ConfigMap once per namespace and pass, however many pods mount it, and still updates every pod', async () => {
    const source = { mode: 'a' };
    const { client, gets } = api(source);
    const runtime = new HollowRuntime({ startDelayMs: 0 });
    const written: string[] = [];
    const write = runtime.writeVolume.bind(runtime);
    runtime.writeVolume = (name: string, files: VolumeFile[]) => {
      written.push(name);
      return write(name, files);
    };
    const config = compileKubeletConfig({ apiserver: '127.0.0.1:1', nodeName: 'n1', runtime: 'hollow' });
    const vm = new VolumeManager({ client, runtime, config, log: nullLogger(), clock: realClock });
    const pods = [...Array.from({ length: 20 }, (_, i) => pod('a', i)), ...Array.from({ length: 5 }, (_, i) => pod('b', i))];
    const env = (p: core.Pod) => ({ pod: p, nodeName: 'n1', nodeIp: '10.0.0.1', podIp: '', hostIp: '10.0.0.1' }) as never;
    await vm.refresh(pods, env, () => false);
    expect(gets.sort()).toEqual(['configmaps a/settings', 'configmaps b/settings']);
    expect(written).toHaveLength(25);
    // Unchanged content: read again (once per namespace), nothing rewritten.
    await vm.refresh(pods, env, () => false);
    expect(gets).toHaveLength(4);
    expect(written).toHaveLength(25);
    // Changed: every pod's volume is rewritten.
    source.mode = 'b';
    await vm.refresh(pods, env, () => false);
    expect(written).toHaveLength(50);
  });
});
