/**
 * Entry of the kubelab component image: `component <name> [flags]` starts one component.
 * Each component folder exports `main(argv)` from its main.ts. `cmd/` holds the process entries that
 * compose components; it is the one folder allowed to import several of them (eslint.config.js).
 */
import { CommanderError } from 'commander';
import { installCrashHandlers, tuneHeapGrowth } from '../component-base/process.js';

type Main = { main(argv: string[]): Promise<void> };

// Literal imports, loaded on demand: the image runs this file bundled (deploy/bundle.mjs), one chunk per component.
const COMPONENTS: Record<string, () => Promise<Main>> = {
  apiserver: () => import('../apiserver/main.js'),
  scheduler: () => import('../scheduler/main.js'),
  'controller-manager': () => import('../controller-manager/main.js'),
  kubelet: () => import('../kubelet/main.js'),
  'kube-proxy': () => import('../kube-proxy/main.js'),
  node: () => import('./node.js'),
  dns: () => import('../kube-proxy/dns-main.js'),
  ingress: () => import('../ingress/main.js'),
  dashboard: () => import('./dashboard.js'),
  pki: () => import('./pki.js'),
  reaper: () => import('./reaper.js'),
};

async function run(): Promise<void> {
  // Before the component's module loads: a crash while loading it is reported and exits non-zero too.
  installCrashHandlers();
  tuneHeapGrowth();
  const [name, ...rest] = process.argv.slice(2);
  const load = name && Object.hasOwn(COMPONENTS, name) ? COMPONENTS[name] : undefined;
  if (!load) {
    process.stderr.write(`usage: component <${Object.keys(COMPONENTS).join('|')}> [flags]\n`);
    process.exit(2);
  }
  const mod = await load();
  await mod.main(rest);
}

run().catch((err: unknown) => {
  // --help (printed), or a flag commander refused (it printed why): exit as it says, without a second message.
  if (err instanceof CommanderError) process.exit(err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : err.exitCode || 2);
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
