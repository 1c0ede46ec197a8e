import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterEach, describe, expect, it } from 'vitest';
import { imagesCurrent } from './compose.js';

const IMAGES = ['kubelab/kubelab:latest', 'kubelab/etcd:latest', 'kubelab/pause:latest', 'kubelab/busybox:latest', 'kubelab/ingress-nginx:latest', 'kubelab/haproxy:latest'];
const T = Date.parse('2026-12-05T08:00:00Z');

/** Every image exists, created at `createdAt`, with id `sha256:<name>` (only inspect is used). */
function engine(createdAt: number, ids: Record<string, string> = {}): Docker {
  return {
    getImage: (ref: string) => ({
      inspect: async () => {
        if (!IMAGES.includes(ref)) throw new Error('no such image');
        return { Created: new Date(createdAt).toISOString(), Id: ids[ref] ?? `sha256:${ref}` };
      },
    }),
  } as unknown as Docker;
}

let root = '';
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A checkout whose dist/ was compiled at `distAt`, with an images stamp of `stamp` written for `stampAt`. */
function checkout(distAt: number, stamp?: { at: number; body: string }): string {
  root = mkdtempSync(join(tmpdir(), 'kubelab-images-'));
  mkdirSync(join(root, 'dist'));
  writeFileSync(join(root, 'dist', 'index.js'), '');
  utimesSync(join(root, 'dist', 'index.js'), new Date(distAt), new Date(distAt));
  if (stamp) {
    mkdirSync(join(root, '.deploy-cache'));
    writeFileSync(join(root, '.deploy-cache', 'images.stamp'), stamp.body);
    utimesSync(join(root, '.deploy-cache', 'images.stamp'), new Date(stamp.at), new Date(stamp.at));
  }
  return root;
}

const body = JSON.stringify({ 'kubelab/kubelab:latest': 'sha256:kubelab/kubelab:latest', 'kubelab/ingress-nginx:latest': 'sha256:kubelab/ingress-nginx:latest' });

describe('lab up: are the images current?', () => {
  it('an image built after dist/ is current; dist/ compiled after it is not', async () => {
    expect(await imagesCurrent(engine(T), checkout(T - 60_000))).toBe(true);
    rmSync(root, { recursive: true });
    expect(await imagesCurrent(engine(T), checkout(T + 60_000))).toBe('dist/ is newer than kubelab/kubelab:latest');
  });

  it("an image left as it was (same inputs) is current once build-images.sh's stamp, newer than dist/, names it", async () => {
    // A fresh clone: dist/ compiled now, the images not rebuilt because their inputs hash did not change.
    expect(await imagesCurrent(engine(T - 3_600_000), checkout(T, { at: T + 1_000, body }))).toBe(true);
  });

  it('the stamp does not vouch for an image it does not name (replaced by another checkout), nor for a dist/ newer than itself', async () => {
    expect(await imagesCurrent(engine(T - 3_600_000, { 'kubelab/kubelab:latest': 'sha256:other' }), checkout(T, { at: T + 1_000, body }))).toBe('dist/ is newer than kubelab/kubelab:latest');
    rmSync(root, { recursive: true });
    expect(await imagesCurrent(engine(T - 3_600_000), checkout(T + 2_000, { at: T + 1_000, body }))).toBe('dist/ is newer than kubelab/kubelab:latest');
  });

  it('a garbage stamp is ignored: the creation times decide', async () => {
    for (const bad of ['', 'not json', '[1, 2]', 'null', '{"kubelab/kubelab:latest": 42}']) {
      expect(await imagesCurrent(engine(T - 3_600_000), checkout(T, { at: T + 1_000, body: bad })), bad).toBe('dist/ is newer than kubelab/kubelab:latest');
      rmSync(root, { recursive: true });
    }
  });

  it('a missing image is named', async () => {
    const docker = { getImage: () => ({ inspect: async () => Promise.reject(new Error('no such image')) }) } as unknown as Docker;
    expect(await imagesCurrent(docker, checkout(T))).toBe('kubelab/kubelab:latest is missing');
  });
});
