import { defineConfig } from 'vitest/config';

/**
 * Whole-cluster suites (containers per node, the compose lab, thousands of fuzz inputs, seven kubectl
 * versions): their own project, so `npm test -- --project integration` is a quick loop. CI runs all.
 */
const SLOW = ['test/e2e.test.ts', 'test/dashboard-lab.test.ts', 'test/e2e-compose.test.ts', 'test/fuzz.test.ts', 'test/kubectl-matrix.test.ts', 'test/services.test.ts'];

/**
 * Files that mostly wait (one in-process control plane, at most one kubelet and a few containers): CPU
 * samples of a whole serial run showed the machine 50–78 % idle during each of them, against 2–38 % during
 * the files that start node containers or burn CPU (fuzz, kubectl matrix). They run two at a time, in two
 * halves of about equal length: one half in the forks pool, the other in the threads pool (vitest runs
 * the two pools side by side; each has one worker). Never a whole cluster beside them.
 */
const LIGHT_A = ['kubelet', 'scheduler', 'streaming', 'apiserver', 'images', 'nodedeath', 'tls', 'reap-stale', 'cli', 'security'].map((f) => `test/${f}.test.ts`);
const LIGHT_B = ['controllers', 'kubelet-volumes', 'clientnode', 'dashboard', 'metrics-docker', 'python', 'components-rbac', 'encryption', 'etcd-support'].map((f) => `test/${f}.test.ts`);

/**
 * Real etcd / Docker tests: one worker per pool on any machine (fileParallelism: false), so a whole
 * cluster never shares the 2 cores with another test file. No retry: a test that fails once is a race to
 * find (in kubelab or in the test's waiting), not noise to hide. Each test waits on conditions, never on
 * fixed sleeps.
 */
const realParts = { environment: 'node', testTimeout: 120_000, hookTimeout: 240_000 } as const;

// Projects, in groups that run one after the other (sequence.groupOrder):
//   0: `unit` (pure logic, beside the code) and `light` (forks) beside `light-threads` (threads);
//   1: `integration` (the other files under test/), one at a time;  2: `slow`, one at a time.
export default defineConfig({
  test: {
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
      { test: { name: 'light', include: LIGHT_A, pool: 'forks', ...realParts } },
      { test: { name: 'light-threads', include: LIGHT_B, pool: 'threads', ...realParts } },
      { test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: [...SLOW, ...LIGHT_A, ...LIGHT_B], pool: 'forks', ...realParts, sequence: { groupOrder: 1 } } },
      { test: { name: 'slow', include: SLOW, pool: 'forks', ...realParts, sequence: { groupOrder: 2 } } },
    ],
  },
});
