import { defineConfig } from 'vitest/config';

// Two projects: `unit` (pure logic, beside the code) and `integration` (real etcd / Docker, under test/).
// Integration files run one at a time: they start real processes and containers on a 2-core machine.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{client,apiserver,scheduler,controller-manager,kubelet,kube-proxy,cli}/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          // Real Docker and etcd on a shared 2-core machine: a test that fails is run once more, and
          // fails the suite only if it fails again (flaky passes show up as retries in the report).
          retry: 1,
          testTimeout: 120_000,
          hookTimeout: 240_000,
        },
      },
    ],
  },
});
