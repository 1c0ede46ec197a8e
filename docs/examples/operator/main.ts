/**
 * `node dist/docs/examples/operator/main.js [--namespace NS]`: runs the example operator against the
 * cluster of $KUBECONFIG (or ~/.kube/config) until SIGINT/SIGTERM.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { startOperator } from './operator.js';

const i = process.argv.indexOf('--namespace');
const kc = new KubeConfig();
kc.loadFromDefault();
const namespace = i > 0 ? process.argv[i + 1] : (kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default');
if (!namespace) {
  process.stderr.write('--namespace needs a value\n');
  process.exit(2);
}
const stop = await startOperator({ kubeConfig: kc, namespace });
process.stdout.write(`derive-operator watching ConfigMaps labelled example.kubelab.io/derive=true in namespace ${namespace}\n`);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    void stop().then(() => process.exit(0));
  });
}
