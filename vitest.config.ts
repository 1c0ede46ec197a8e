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
          // No retry: a test that fails once is a race to find (in kubelab or in the test's waiting), not
          // noise to hide. Each test waits on conditions, never on fixed sleeps.
          testTimeout: 120_000,
          hookTimeout: 240_000,
        },
      },
    ],
  },
});
