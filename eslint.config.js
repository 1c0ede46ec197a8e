import tseslint from 'typescript-eslint';

const COMPONENTS = ['apiserver', 'scheduler', 'controller-manager', 'kubelet', 'kube-proxy', 'ingress', 'cli', 'dashboard'];
const TEST_IMPORT = { group: ['**/test/*', '**/test/**'], message: 'production code may not import test code' };

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bin/**', '*.config.*', '.kubelab/**'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.base],
    ignores: ['dashboard/web/**'],
    languageOptions: { parserOptions: { project: './tsconfig.eslint.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      'no-console': 'error',
    },
  },
  // The dashboard's browser code: DOM types (its own tsconfig); it may import only types from dashboard/.
  {
    files: ['dashboard/web/**/*.ts'],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { project: './dashboard/web/tsconfig.json', tsconfigRootDir: import.meta.dirname } },
    rules: { '@typescript-eslint/no-floating-promises': 'error', 'no-console': 'error' },
  },
  { files: ['cli/**/*.ts', 'bench/**/*.ts', 'test/**/*.ts', '**/*.test.ts'], rules: { 'no-console': 'off' } },
  // Components are siblings: they never import each other, and production code never imports tests.
  // They meet in api/, component-base/ and client/ (see below). A helper two components
  // need moves down into one of them; it is not imported sideways. Only cmd/ (the process entries that
  // compose components: the image's `component <name>`, the node's kubelet + kube-proxy) imports several.
  ...COMPONENTS.map((c) => ({
    files: [`${c}/**/*.ts`],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...COMPONENTS.filter((o) => o !== c).map((o) => ({ group: [`**/${o}/*`, `**/${o}/**`], message: `${c}/ may not import ${o}/: components meet in api/, component-base/ and client/ (move the shared helper down there)` })),
            { group: ['**/cmd/*', '**/cmd/**'], message: `${c}/ may not import cmd/: the launchers compose components, not the other way round` },
            TEST_IMPORT,
          ],
        },
      ],
    },
  })),
  // The layers below the components: api/ (types, resource table, errors, selectors, quantities, printers:
  // pure, imports nothing of kubelab's but itself), component-base/ (process, flags, admin endpoint, logs,
  // timing presets, TLS files: may use api/), client/ (the API client, informers, queues, leader election,
  // events: may use both). Each imports only downwards.
  ...[
    ['api', ['component-base', 'client']],
    ['component-base', ['client']],
  ].map(([layer, above]) => ({
    files: [`${layer}/**/*.ts`],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...[...above, ...COMPONENTS, 'cmd'].map((o) => ({ group: [`**/${o}/*`, `**/${o}/**`], message: `${layer}/ may not import ${o}/: it sits below it (move the code down, or the import up)` })),
            TEST_IMPORT,
          ],
        },
      ],
    },
  })),
  { files: ['cmd/**/*.ts'], ignores: ['**/*.test.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [TEST_IMPORT] }] } },
  {
    files: ['client/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [...[...COMPONENTS, 'cmd'].map((o) => ({ group: [`**/${o}/*`, `**/${o}/**`], message: `client/ may not import ${o}/: components sit above the client` })), TEST_IMPORT] },
      ],
    },
  },
);
