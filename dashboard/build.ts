/**
 * Bundles the dashboard's browser code (dashboard/web/app.ts, TypeScript) with esbuild into
 * dist/dashboard/web/app.js next to index.html and style.css: static files the dashboard serves, no CDN,
 * no framework. Run by `npm run build` after tsc (esbuild is a build-time dependency only).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// dist/dashboard/build.js when built, dashboard/build.ts when a test runs the source.
const root = existsSync(join(here, '..', 'package.json')) ? join(here, '..') : join(here, '..', '..');
const src = join(root, 'dashboard', 'web');
const out = join(root, 'dist', 'dashboard', 'web');

/**
 * Writes a file only when its content differs: an unchanged bundle keeps its mtime, so `kubelab lab up` (which
 * compares dist/ with the image's build time) does not rebuild images after a build that changed nothing.
 */
function writeIfChanged(path: string, data: Uint8Array): void {
  if (existsSync(path) && Buffer.compare(readFileSync(path), data) === 0) return;
  writeFileSync(path, data);
}

export async function buildDashboard(opts: { minify?: boolean } = {}): Promise<void> {
  const esbuild = await import('esbuild');
  mkdirSync(out, { recursive: true });
  const result = await esbuild.build({
    write: false,
    entryPoints: [join(src, 'app.ts')],
    outfile: join(out, 'app.js'),
    bundle: true,
    format: 'iife',
    target: 'es2022',
    minify: opts.minify ?? true,
    sourcemap: true,
    logLevel: 'warning',
  });
  for (const f of result.outputFiles) writeIfChanged(f.path, f.contents);
  for (const f of ['index.html', 'style.css']) writeIfChanged(join(out, f), readFileSync(join(src, f)));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildDashboard().catch((err: unknown) => {
    process.stderr.write(`dashboard bundle failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
