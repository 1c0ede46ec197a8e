import { defineConfig } from 'vitest/config';

/**
 * Whole-cluster suites (containers per node, the compose lab, thousands of fuzz inputs, seven kubectl
 * versions): their own projects, so `npm test -- --project integration` is a quick loop. CI runs all.
 * `clusters`: each starts a cluster of its own (free ports, its own cluster name and network; the compose lab is the
 * only one on the lab's fixed ports and names) and leaves the machine 20–45 % idle (CPU sampled every 5 s over a CI
 * run), so two run at once. `slow`: the lab cluster with the lab timing (5 s node grace, and the suite counts false
 * NotReady): alone, last.
 */
const CLUSTERS = ['test/ha.test.ts', 'test/multihost.test.ts', 'test/fuzz.test.ts', 'test/kubectl-matrix.test.ts', 'test/services.test.ts', 'test/e2e-compose.test.ts'];
const SLOW = ['test/lab.test.ts'];

/**
 * Real etcd / Docker tests. No retry: a test that fails once is a race to find (in kubelab or in the
 * test's waiting), not noise to hide. Each test waits on conditions, never on fixed sleeps.
 */
const realParts = { environment: 'node', testTimeout: 120_000, hookTimeout: 240_000 } as const;

// Projects: `unit` (pure logic, beside the code), `integration` (real etcd / Docker, under test/), `clusters` and `slow`.
export default defineConfig({
  test: {
    // Two files at a time (vitest's default on 2 cores is one): an integration file spends most of its time
    // waiting on timers (leases, probes, backoffs) with the machine ~half idle; two at once took the
    // integration project from 277 s to 163 s. Every file starts its own etcd/processes on free ports and labels
    // its containers with its own cluster name, so two never share state.
    maxWorkers: 2,
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
      { test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: [...CLUSTERS, ...SLOW], ...realParts } },
      // After unit and integration (groupOrder), two files at a time (the root's maxWorkers).
      { test: { name: 'clusters', include: CLUSTERS, ...realParts, sequence: { groupOrder: 1 } } },
      // Last (groupOrder), one file at a time, with nothing beside them: the lab's timing — 5 s node grace — must
      // not depend on another cluster's load (the lab suite counts false NotReady).
      // singleFork, not fileParallelism: false — vitest reads fileParallelism only from the root config.
      { test: { name: 'slow', include: SLOW, ...realParts, poolOptions: { forks: { singleFork: true } }, sequence: { groupOrder: 2 } } },
    ],
  },
});
