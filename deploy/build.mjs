#!/usr/bin/env node
/**
 * `npm run build`: the TypeScript build (tsc, incremental), the dashboard bundle (dashboard/build.ts) and the
 * components' bundle the images run (deploy/bundle.mjs) —
 * skipped when no input changed since the last build that succeeded. Finding that out takes tsc ~5 s on a
 * 2-core machine; this check reads the inputs' modification times in ~50 ms, which is most of a no-op
 * `npm run lab` (issue 18: lab up in under 10 s).
 *
 * Inputs: every file and directory under tsconfig.json's `include` but tests (a directory's time changes when a
 * file in it is added, removed or renamed), tsconfig.json, package.json and package-lock.json. A build records its
 * start time in dist/.build-stamp, so a file saved while it ran is seen by the next one.
 *
 *   npm run build              builds what changed (nothing: says so and exits 0)
 *   npm run build -- --force   builds regardless
 *
 * Plain JavaScript: it runs before anything is compiled.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'dist', '.build-stamp');
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git']);

/** The newest modification time (ms) of `path` and, for a directory, of everything under it. */
function newest(path) {
  let st;
  try {
    st = statSync(path);
  } catch {
    return 0; // an include that does not exist (yet) is no input
  }
  let t = st.mtimeMs;
  if (!st.isDirectory()) return t;
  for (const e of readdirSync(path, { withFileTypes: true })) {
    // Tests are no input: tsconfig.json excludes them (vitest runs them from source).
    if (SKIP_DIRS.has(e.name) || e.name.endsWith('.test.ts')) continue;
    t = Math.max(t, newest(join(path, e.name)));
  }
  return t;
}

/** Why a build is needed, or undefined when dist/ is up to date. */
function reason() {
  if (process.argv.includes('--force')) return '--force';
  if (!existsSync(stamp) || !existsSync(join(root, 'dist', '.tsbuildinfo'))) return 'no previous build';
  if (!existsSync(join(root, 'dist', 'bundle', 'component.js'))) return "no components' bundle yet";
  const built = statSync(stamp).mtimeMs;
  const include = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')).include ?? [];
  for (const input of [...include, 'tsconfig.json', 'package.json', 'package-lock.json', 'deploy/bundle.mjs']) {
    if (newest(join(root, input)) >= built) return `${input} changed`;
  }
  return undefined;
}

function run(args, what) {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`build: ${what} failed (see above); fix the errors and run \`npm run build\` again\n`);
    process.exit(r.status ?? 1);
  }
}

// A reader that went away (`npm run build | head -1`) is no build failure.
process.stdout.on('error', () => undefined);

let why;
try {
  why = reason();
} catch (err) {
  // An unreadable tsconfig.json and the like: build, and let tsc say what is wrong.
  why = `the up-to-date check failed (${err instanceof Error ? err.message : String(err)})`;
}
if (!why) {
  process.stdout.write(`build: dist/ is up to date (nothing changed since ${new Date(statSync(stamp).mtimeMs).toLocaleTimeString()}; --force builds anyway)\n`);
  process.exit(0);
}
const started = new Date();
process.stdout.write(`build: ${why}: tsc, then the dashboard bundle and the components' bundle ...\n`);
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
if (!existsSync(tsc)) {
  process.stderr.write('build: TypeScript is not installed (node_modules/typescript is missing): run `npm ci` (or `npm install`) first\n');
  process.exit(1);
}
run([tsc, '-p', 'tsconfig.json'], 'the TypeScript build (tsc)');
run([join(root, 'dist', 'dashboard', 'build.js')], 'the dashboard bundle (dist/dashboard/build.js)');
run([join(root, 'deploy', 'bundle.mjs')], "the components' bundle (deploy/bundle.mjs)");
mkdirSync(dirname(stamp), { recursive: true });
writeFileSync(stamp, `${started.toISOString()}\n`);
utimesSync(stamp, started, started);
process.stdout.write(`build: done in ${((Date.now() - started.getTime()) / 1000).toFixed(1)} s\n`);
