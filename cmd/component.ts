/**
 * Entry of the kubelab component image: `component <name> [flags]` starts one component.
 * Each component folder exports `main(argv)` from its main.ts. `cmd/` holds the process entries that
 * compose components; it is the one folder allowed to import several of them (eslint.config.js).
 */
import { installCrashHandlers } from '../component-base/process.js';

const COMPONENTS: Record<string, string> = {
  apiserver: '../apiserver/main.js',
  scheduler: '../scheduler/main.js',
  'controller-manager': '../controller-manager/main.js',
  kubelet: '../kubelet/main.js',
  'kube-proxy': '../kube-proxy/main.js',
  node: './node.js',
  dns: '../kube-proxy/dns-main.js',
  ingress: '../ingress/main.js',
  dashboard: './dashboard.js',
  pki: './pki.js',
};

async function run(): Promise<void> {
  // Before the component's module loads: a crash while loading it is reported and exits non-zero too.
  installCrashHandlers();
  const [name, ...rest] = process.argv.slice(2);
  const path = name ? COMPONENTS[name] : undefined;
  if (!path) {
    process.stderr.write(`usage: component <${Object.keys(COMPONENTS).join('|')}> [flags]\n`);
    process.exit(2);
  }
  const mod = (await import(path)) as { main(argv: string[]): Promise<void> };
  await mod.main(rest);
}

run().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
