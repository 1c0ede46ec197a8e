#!/usr/bin/env node
import('../dist/cli/main.js').then((m) => m.runCli(process.argv.slice(2))).then((code) => process.exit(code)).catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('kubelab is not built yet: run `npm install` (or `npm run build`) in the checkout first.\n');
    process.exit(1);
  }
  throw err;
});
