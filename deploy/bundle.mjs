#!/usr/bin/env node
/**
 * The components' bundle (issue 18: lab up and startCluster are bound by CPU on 2 cores): esbuild joins
 * dist/cmd/component.js and what it imports — kubelab's compiled code and most dependencies — into
 * dist/bundle/component.js plus one chunk per component (code splitting on the dynamic imports), so a component
 * starts by loading a few files instead of ~600 modules. Measured on this machine (user + sys CPU of `--help`, 5 runs
 * each): apiserver 0.85–0.97 → 0.33–0.43 s, scheduler 0.45–0.60 → 0.28–0.38 s, controller-manager 0.59–0.73 →
 * 0.31–0.37 s, node 0.89–1.15 → 0.32–0.45 s.
 * The images run the bundle; `node dist/cmd/component.js` (unbundled) works the same.
 *
 * Code that finds files next to itself keeps working: kubelab's own code finds its data files (the .proto, OpenAPI
 * and protobuf definitions, the dashboard's web/) relative to `import.meta.url`, and CommonJS packages relative to
 * `__dirname` (etcd3's .proto files); in the bundle each file keeps its own — both are rewritten to what they are
 * for the file's original place, computed from the bundle's (the image keeps dist/ and node_modules/ side by side).
 * Kept outside the bundle (loaded from node_modules as before): pino and its transports (worker threads started from
 * files), native modules (ssh2's optional crypto binding), and @peculiar/x509 (loaded on demand after a Reflect
 * metadata polyfill; bundled, its CommonJS exports reached `import()` without `cryptoProvider` and the pki component
 * failed — the image test runs it).
 *
 * Run by deploy/build.mjs after tsc; plain JavaScript.
 */
import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const outdir = join(dist, 'bundle');

/** Packages left to node_modules (see above), and their subpaths. */
export const EXTERNAL = ['pino', 'pino-pretty', 'thread-stream', 'ssh2', 'cpu-features', '@peculiar/x509'];

/**
 * `import.meta.url` in an ES module under dist/, `__dirname` and `__filename` in a CommonJS file under
 * node_modules/ → what they are at the file's original place, computed from the bundle's location.
 */
const ownLocation = {
  name: 'own-location',
  setup(build) {
    build.onLoad({ filter: /\.[cm]?js$/ }, async (args) => {
      if (args.path.startsWith(outdir + '/')) return undefined;
      const inDist = args.path.startsWith(dist + '/');
      const inModules = args.path.includes('/node_modules/');
      if (!inDist && !inModules) return undefined;
      const text = await readFile(args.path, 'utf8');
      const rel = relative(outdir, args.path);
      let contents = text;
      if (inDist && text.includes('import.meta.url')) contents = text.replaceAll('import.meta.url', `new globalThis.URL(${JSON.stringify(rel)}, import.meta.url).href`);
      else if (inModules && /\b__(dirname|filename)\b/.test(text)) {
        // No import.meta in a CommonJS file (esbuild would take it for an ES module): the banner's directory instead.
        const file = `require("node:path").join(__kubelabBundleDir, ${JSON.stringify(rel)})`;
        contents = text.replace(/\b__filename\b/g, `(${file})`).replace(/\b__dirname\b/g, `require("node:path").dirname(${file})`);
      }
      if (contents === text) return undefined;
      return { contents, loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

export async function bundleComponents() {
  const esbuild = await import('esbuild');
  // Chunk names carry content hashes: last build's chunks would stay beside the new ones.
  rmSync(outdir, { recursive: true, force: true });
  await esbuild.build({
    entryPoints: { component: join(dist, 'cmd', 'component.js') },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Flat: every output file sits in outdir, the directory the import.meta.url rewrite computes from.
    chunkNames: '[name]-[hash]',
    external: EXTERNAL.flatMap((p) => [p, `${p}/*`]),
    // CommonJS dependencies call require(); an ES module has none of its own.
    // CommonJS dependencies call require(), which an ES module has not; and find their files from the bundle's directory.
    banner: {
      js: [
        "import { createRequire as __kubelabCreateRequire } from 'node:module';",
        "import { fileURLToPath as __kubelabFileURLToPath } from 'node:url';",
        "import { dirname as __kubelabDirname } from 'node:path';",
        // Not `new URL(...)`: a bundled module may declare a top-level `URL` of its own (uuid does).
        'const require = __kubelabCreateRequire(import.meta.url);',
        'const __kubelabBundleDir = __kubelabDirname(__kubelabFileURLToPath(import.meta.url));',
      ].join(' '),
    },
    sourcemap: 'linked',
    sourcesContent: false,
    logLevel: 'warning',
    plugins: [ownLocation],
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  bundleComponents().catch((err) => {
    process.stderr.write(`the components' bundle failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
