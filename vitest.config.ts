import { defineConfig } from 'vitest/config';

/**
 * Two lanes run side by side, each one file at a time (fileParallelism: false gives every pool one
 * worker; vitest runs its forks pool and its threads pool concurrently):
 *
 * - `cluster` (forks): the unit tests, then everything that starts a whole cluster of node containers
 *   (never two at once on a 2-core machine).
 * - `process` (worker threads): in-process control planes on the host's etcd, and single kubelets with a
 *   few containers. Nothing here starts node containers, so it shares the machine with the lane above.
 *
 * `npm test -- --project process` (or `cluster`, `unit`) is a quick loop; CI runs all.
 * No retry: a test that fails once is a race to find (in kubelab or in the test's waiting), not noise to
 * hide. Each test waits on conditions, never on fixed sleeps.
 */
export const CLUSTER_FILES = [
  'test/e2e.test.ts',
  'test/dashboard-lab.test.ts',
  'test/e2e-compose.test.ts',
  'test/kubectl-matrix.test.ts',
  'test/services.test.ts',
  'test/ingress.test.ts',
  'test/security-lab.test.ts',
];

const realParts = { environment: 'node', testTimeout: 120_000, hookTimeout: 240_000 } as const;

export default defineConfig({
  test: {
    // One worker per pool, on any machine: the cluster lane must never run two clusters at once.
    fileParallelism: false,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{api,component-base,client,dashboard,apiserver,scheduler,controller-manager,kubelet,kube-proxy,ingress,cli,cmd}/**/*.test.ts'],
          environment: 'node',
          pool: 'forks',
        },
      },
      { test: { name: 'cluster', include: CLUSTER_FILES, pool: 'forks', ...realParts } },
      { test: { name: 'process', include: ['test/**/*.test.ts'], exclude: CLUSTER_FILES, pool: 'threads', ...realParts } },
    ],
  },
});
