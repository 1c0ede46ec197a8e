import { defineConfig } from 'vitest/config';

/**
 * Whole-cluster suites (containers per node, the compose lab, thousands of fuzz inputs, seven kubectl
 * versions): their own project, so `npm test -- --project integration` is a quick loop. CI runs all.
 */
const SLOW = ['test/lab.test.ts', 'test/ha.test.ts', 'test/multihost.test.ts', 'test/e2e-compose.test.ts', 'test/fuzz.test.ts', 'test/kubectl-matrix.test.ts', 'test/services.test.ts'];

/**
 * Real etcd / Docker tests run one file at a time: they start real processes and containers on a
 * 2-core machine. No retry: a test that fails once is a race to find (in kubelab or in the test's
 * waiting), not noise to hide. Each test waits on conditions, never on fixed sleeps.
 */
const realParts = { environment: 'node', fileParallelism: false, testTimeout: 120_000, hookTimeout: 240_000 } as const;

// Projects: `unit` (pure logic, beside the code), `integration` (real etcd / Docker, under test/) and `slow`.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{api,component-base,client,dashboard,apiserver,scheduler,controller-manager,kubelet,kube-proxy,ingress,cli,cmd}/**/*.test.ts'],
          environment: 'node',
          // Pure logic: one module graph per worker instead of one per file (93 files: ~55 s of set-up → ~12 s).
          isolate: false,
        },
      },
      { test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: SLOW, ...realParts } },
      // After the other two (groupOrder): never two whole clusters at once.
      { test: { name: 'slow', include: SLOW, ...realParts, sequence: { groupOrder: 1 } } },
    ],
  },
});
