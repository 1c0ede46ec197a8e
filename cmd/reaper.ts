/**
 * kubelab `reaper` component: the compose lab's `reaper` service (cli/lab/reaper.ts). It idles; when compose stops it
 * (`down`, `stop`), it removes the cluster's containers compose did not create — the kubelets' pods, added workers —
 * and the pods' volumes, so that `docker compose down -v` can remove the network afterwards.
 */
import { Command } from 'commander';
import { waitAndReap } from '../cli/lab/reaper.js';

export async function main(argv: string[]): Promise<void> {
  const cmd = new Command('reaper')
    .description("on SIGTERM, remove the cluster's containers and volumes that compose does not manage (pods, added workers)")
    .option('--cluster <name>', 'the cluster (its io.kubelab.cluster label)', process.env.KUBELAB_CLUSTER ?? 'kubelab')
    .exitOverride();
  cmd.parse(argv, { from: 'user' });
  const { cluster } = cmd.opts<{ cluster: string }>();
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(cluster)) throw new Error(`--cluster: "${cluster}" must be lower-case letters, digits and '-'`);
  await waitAndReap(cluster);
}
