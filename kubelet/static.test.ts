import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nullLogger } from '../component-base/log.js';
import { CONFIG_HASH_ANNOTATION, CONFIG_SOURCE_ANNOTATION, isStaticPod } from './kubelet.js';
import { loadStaticPods } from './static.js';

const POD = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: { app: web }
spec:
  containers:
  - name: app
    image: busybox
`;

describe('loadStaticPods', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubelab-static-unit-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names static pods after their node, binds them there and marks them as file-sourced', async () => {
    await writeFile(join(dir, 'web.yaml'), POD);
    const [p, ...rest] = await loadStaticPods(dir, 'node-1', nullLogger());
    expect(rest).toEqual([]);
    expect(p?.metadata?.name).toBe('web-node-1');
    expect(p?.metadata?.namespace).toBe('default');
    expect(p?.spec?.nodeName).toBe('node-1');
    expect(p?.metadata?.annotations?.[CONFIG_SOURCE_ANNOTATION]).toBe('file');
    expect(p?.metadata?.annotations?.[CONFIG_HASH_ANNOTATION]).toBe(p?.metadata?.uid);
    expect(p && isStaticPod(p)).toBe(true);
  });

  it('gives a changed manifest a new uid and the same manifest the same one', async () => {
    await writeFile(join(dir, 'web.yaml'), POD);
    const [a] = await loadStaticPods(dir, 'node-1', nullLogger());
    const [again] = await loadStaticPods(dir, 'node-1', nullLogger());
    await writeFile(join(dir, 'web.yaml'), POD.replace('image: busybox', 'image: busybox:2'));
    const [changed] = await loadStaticPods(dir, 'node-1', nullLogger());
    expect(again?.metadata?.uid).toBe(a?.metadata?.uid);
    expect(changed?.metadata?.uid).not.toBe(a?.metadata?.uid);
  });

  it('skips broken YAML (a manifest caught half-written), non-pods and hidden files, and keeps the rest', async () => {
    await writeFile(join(dir, 'web.yaml'), POD);
    await writeFile(join(dir, 'half.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: half\nspec:\n  containers: [{name: app, image: busy');
    await writeFile(join(dir, 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n');
    await writeFile(join(dir, '.web.yaml.swp'), POD.replace('name: web', 'name: swap'));
    await writeFile(join(dir, 'notes.txt'), POD.replace('name: web', 'name: notes'));
    const pods = await loadStaticPods(dir, 'node-1', nullLogger());
    expect(pods.map((p) => p.metadata?.name)).toEqual(['web-node-1']);
  });

  it('runs nothing from a directory that does not exist', async () => {
    expect(await loadStaticPods(join(dir, 'missing'), 'node-1', nullLogger())).toEqual([]);
  });
});
