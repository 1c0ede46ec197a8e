/**
 * `kubelab etcd crash|restart|partition|heal <member>` and `kubelab apiserver crash|restart <n>`: faults of an
 * HA control plane (`kubelab lab up --ha`, docs/lab.md "HA control plane"). A member is named as its
 * container is after the lab's prefix (`etcd-2`, `apiserver-1`) or by its number (`2`).
 */
import type { Command } from 'commander';
import { withLab } from './node.js';

const cluster = (c: Command): Command => c.option('--cluster <name>', 'lab cluster name (default: $KUBELAB_CLUSTER, the lab in this checkout, or kubelab)');

export function register(program: Command): void {
  const etcd = program.command('etcd').description('Break and repair etcd members of an HA control plane: crash, restart, partition, heal');
  cluster(etcd.command('crash').description('SIGKILL one etcd member (its data stays in its container; with 3 members the cluster keeps quorum)'))
    .argument('<member>', 'etcd-1, etcd-2, ... or the number')
    .action(async (member: string, opts: { cluster?: string }) => {
      await withLab(opts, async (lab) => `${await lab.crashMember('etcd', member)} crashed`);
    });
  cluster(etcd.command('restart').description('Start a crashed etcd member again: it rejoins and catches up from the leader'))
    .argument('<member>')
    .action(async (member: string, opts: { cluster?: string }) => {
      await withLab(opts, async (lab) => `${await lab.restartMember('etcd', member)} restarted`);
    });
  cluster(etcd.command('partition').description("Cut one etcd member off its peers and the apiservers (it keeps running, without a leader)"))
    .argument('<member>')
    .action(async (member: string, opts: { cluster?: string }) => {
      await withLab(opts, async (lab) => `${await lab.partitionEtcd(member)} partitioned`);
    });
  cluster(etcd.command('heal').description('Reconnect a partitioned etcd member'))
    .argument('<member>')
    .action(async (member: string, opts: { cluster?: string }) => {
      await withLab(opts, async (lab) => `${await lab.healEtcd(member)} healed`);
    });

  const apiserver = program.command('apiserver').description('Break and repair the apiservers of an HA control plane: crash, restart');
  cluster(apiserver.command('crash').description('SIGKILL one apiserver: the load balancer stops sending to it, clients reconnect to the others'))
    .argument('<n>', 'apiserver-1, apiserver-2, ... or the number')
    .action(async (n: string, opts: { cluster?: string }) => {
      await withLab(opts, async (lab) => `${await lab.crashMember('apiserver', n)} crashed`);
    });
  cluster(apiserver.command('restart').description('Start a crashed apiserver again (or restart a running one)'))
    .argument('<n>')
    .action(async (n: string, opts: { cluster?: string }) => {
      await withLab(opts, async (lab) => `${await lab.restartMember('apiserver', n)} restarted`);
    });
}
