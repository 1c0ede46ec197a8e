/**
 * `kubelab etcd crash|restart|partition|heal <member>` and `kubelab apiserver crash|restart <n>`: faults of an
 * HA control plane (`kubelab lab up --ha`, docs/lab.md "HA control plane"). A member is named as its
 * container is after the lab's prefix (`etcd-2`, `apiserver-1`) or by its number (`2`).
 */
import type { Command } from 'commander';
import type { Lab } from '../lab/lab.js';
import { withLab } from './node.js';

interface Fault {
  verb: string;
  description: string;
  /** Does it; returns the container name it acted on. */
  run: (lab: Lab, member: string) => Promise<string>;
  /** What the output line says happened (`kubelab-etcd-2 crashed`). */
  done: string;
}

const GROUPS: { name: 'etcd' | 'apiserver'; description: string; arg: string; faults: Fault[] }[] = [
  {
    name: 'etcd',
    description: 'Break and repair etcd members of an HA control plane: crash, restart, partition, heal',
    arg: 'etcd-1, etcd-2, ... or the number',
    faults: [
      { verb: 'crash', description: 'SIGKILL one etcd member (its data stays in its container; with 3 members the cluster keeps quorum)', run: (lab, m) => lab.crashMember('etcd', m), done: 'crashed' },
      { verb: 'restart', description: 'Start a crashed etcd member again: it rejoins and catches up from the leader', run: (lab, m) => lab.restartMember('etcd', m), done: 'restarted' },
      { verb: 'partition', description: 'Cut one etcd member off its peers and the apiservers (it keeps running, without a leader)', run: (lab, m) => lab.partitionEtcd(m), done: 'partitioned' },
      { verb: 'heal', description: 'Reconnect a partitioned etcd member', run: (lab, m) => lab.healEtcd(m), done: 'healed' },
    ],
  },
  {
    name: 'apiserver',
    description: 'Break and repair the apiservers of an HA control plane: crash, restart',
    arg: 'apiserver-1, apiserver-2, ... or the number',
    faults: [
      { verb: 'crash', description: 'SIGKILL one apiserver: the load balancer stops sending to it, clients reconnect to the others', run: (lab, n) => lab.crashMember('apiserver', n), done: 'crashed' },
      { verb: 'restart', description: 'Start a crashed apiserver again (or restart a running one)', run: (lab, n) => lab.restartMember('apiserver', n), done: 'restarted' },
    ],
  },
];

export function register(program: Command): void {
  for (const g of GROUPS) {
    const group = program.command(g.name).description(g.description);
    for (const f of g.faults)
      group
        .command(f.verb)
        .description(f.description)
        .argument('<member>', g.arg)
        .option('--cluster <name>', 'lab cluster name (default: $KUBELAB_CLUSTER, the lab in this checkout, or kubelab)')
        .action(async (member: string, opts: { cluster?: string }) => {
          await withLab(opts, async (lab) => `${await f.run(lab, member)} ${f.done}`);
        });
  }
}
