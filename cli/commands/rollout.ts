/**
 * `kubelab rollout status|history|undo|pause|resume|restart deployment/NAME`.
 * `undo` is client side, as in modern kubectl: it copies the chosen revision's ReplicaSet template
 * (minus pod-template-hash) back into the Deployment, which then rolls forward to it.
 */
import type { Command } from 'commander';
import type { ApiClient } from '../../client/api.js';
import { findResource } from '../../api/resources.js';
import type { apps } from '../../api/types.js';
import { CHANGE_CAUSE, REVISION, revisionOf, templateWithoutHash } from '../../api/deploymentutil.js';
import { cliClient, CliError } from '../context.js';

/** Parses `deployment/NAME`, `deploy NAME` forms; only Deployments are supported here. */
function parseDeployment(args: string[]): string {
  const [first, second] = args;
  let type = first;
  let name = second;
  if (first?.includes('/')) [type, name] = first.split('/', 2);
  if (!type || !name) throw new CliError('expected deployment/NAME');
  const info = findResource(type);
  if (info?.resource !== 'deployments') throw new CliError(`rollout supports deployments only (got "${type}")`);
  return name;
}

async function ownedReplicaSets(client: ApiClient, d: apps.Deployment): Promise<apps.ReplicaSet[]> {
  const list = await client.list('replicasets', { namespace: d.metadata?.namespace });
  return list.items.filter((rs) => rs.metadata?.ownerReferences?.some((r) => r.controller && r.uid === d.metadata?.uid));
}

/** Rolls a Deployment back to `toRevision` (0: the previous one). Returns the revision restored. */
export async function rollbackDeployment(client: ApiClient, namespace: string, name: string, toRevision = 0): Promise<number> {
  const d = await client.get('deployments', name, { namespace });
  if (d.spec?.paused) throw new CliError(`you cannot rollback a paused deployment; resume it first with 'kubelab rollout resume deployment/${name}' and try again`);
  const rss = (await ownedReplicaSets(client, d)).sort((a, b) => revisionOf(b) - revisionOf(a));
  const current = revisionOf(d);
  const target = toRevision > 0 ? rss.find((rs) => revisionOf(rs) === toRevision) : rss.find((rs) => revisionOf(rs) !== current && revisionOf(rs) < current);
  if (!target) throw new CliError(toRevision > 0 ? `unable to find the specified revision ${toRevision}` : 'no rollout history found for deployment "' + name + '"');
  const tpl = templateWithoutHash(target.spec?.template);
  await client.update('deployments', { ...d, spec: { ...d.spec, template: tpl } } as apps.Deployment);
  return revisionOf(target);
}

/** One line of `rollout status`; `done` when the rollout finished. */
export function rolloutStatusLine(d: apps.Deployment): { line: string; done: boolean; failed?: boolean } {
  const name = d.metadata?.name;
  const s = d.status ?? {};
  const replicas = d.spec?.replicas ?? 1;
  if ((s.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) return { line: 'Waiting for deployment spec update to be observed...', done: false };
  const prog = s.conditions?.find((c) => c.type === 'Progressing');
  if (prog?.reason === 'ProgressDeadlineExceeded') return { line: `error: deployment "${name}" exceeded its progress deadline`, done: true, failed: true };
  if ((s.updatedReplicas ?? 0) < replicas) return { line: `Waiting for deployment "${name}" rollout to finish: ${s.updatedReplicas ?? 0} out of ${replicas} new replicas have been updated...`, done: false };
  if ((s.replicas ?? 0) > (s.updatedReplicas ?? 0)) return { line: `Waiting for deployment "${name}" rollout to finish: ${(s.replicas ?? 0) - (s.updatedReplicas ?? 0)} old replicas are pending termination...`, done: false };
  if ((s.availableReplicas ?? 0) < (s.updatedReplicas ?? 0)) return { line: `Waiting for deployment "${name}" rollout to finish: ${s.availableReplicas ?? 0} of ${s.updatedReplicas ?? 0} updated replicas are available...`, done: false };
  return { line: `deployment "${name}" successfully rolled out`, done: true };
}

export function register(program: Command): void {
  const rollout = program.command('rollout').description('Manage the rollout of a deployment (kubectl rollout)');
  const ctx = (cmd: Command): { client: ApiClient; namespace: string } => {
    const g = cmd.optsWithGlobals<{ server?: string; namespace?: string }>();
    return { client: cliClient(g), namespace: g.namespace ?? 'default' };
  };

  rollout
    .command('status')
    .argument('<target...>', 'deployment/NAME')
    .option('--timeout <seconds>', 'give up after this many seconds (0: wait forever)', '0')
    .option('-w, --watch <bool>', 'keep watching until done', 'true')
    .description('Watch a rollout until it completes')
    .action(async (args: string[], opts: { timeout: string; watch: string }, cmd: Command) => {
      const { client, namespace } = ctx(cmd);
      const name = parseDeployment(args);
      const deadline = Number(opts.timeout) > 0 ? Date.now() + Number(opts.timeout) * 1000 : Infinity;
      let last = '';
      for (;;) {
        const d = await client.get('deployments', name, { namespace });
        const st = rolloutStatusLine(d);
        if (st.line !== last) process.stdout.write(`${st.line}\n`);
        last = st.line;
        if (st.failed) {
          process.exitCode = 1;
          return;
        }
        if (st.done || opts.watch === 'false') return;
        if (Date.now() > deadline) throw new CliError('timed out waiting for the condition');
        await new Promise((r) => setTimeout(r, 500));
      }
    });

  rollout
    .command('history')
    .argument('<target...>', 'deployment/NAME')
    .option('--revision <n>', 'show the template of one revision')
    .description('Show the revisions of a deployment')
    .action(async (args: string[], opts: { revision?: string }, cmd: Command) => {
      const { client, namespace } = ctx(cmd);
      const name = parseDeployment(args);
      const d = await client.get('deployments', name, { namespace });
      const rss = (await ownedReplicaSets(client, d)).sort((a, b) => revisionOf(a) - revisionOf(b));
      if (opts.revision) {
        const rs = rss.find((r) => revisionOf(r) === Number(opts.revision));
        if (!rs) throw new CliError(`unable to find the specified revision ${opts.revision}`);
        const tpl = templateWithoutHash(rs.spec?.template);
        process.stdout.write(`deployment.apps/${name} with revision #${opts.revision}\nPod Template:\n${JSON.stringify(tpl, null, 2)}\n`);
        return;
      }
      process.stdout.write(`deployment.apps/${name}\nREVISION  CHANGE-CAUSE\n`);
      for (const rs of rss) process.stdout.write(`${String(revisionOf(rs)).padEnd(10)}${rs.metadata?.annotations?.[CHANGE_CAUSE] ?? '<none>'}\n`);
    });

  rollout
    .command('undo')
    .argument('<target...>', 'deployment/NAME')
    .option('--to-revision <n>', 'revision to roll back to (default: the previous one)', '0')
    .description('Roll back to a previous revision')
    .action(async (args: string[], opts: { toRevision: string }, cmd: Command) => {
      const { client, namespace } = ctx(cmd);
      const name = parseDeployment(args);
      const to = Number(opts.toRevision);
      if (!Number.isInteger(to) || to < 0) throw new CliError(`--to-revision: "${opts.toRevision}" is not a revision number`);
      await rollbackDeployment(client, namespace, name, to);
      process.stdout.write(`deployment.apps/${name} rolled back\n`);
    });

  for (const [verb, paused] of [['pause', true], ['resume', false]] as const) {
    rollout
      .command(verb)
      .argument('<target...>', 'deployment/NAME')
      .description(paused ? 'Pause a rollout: template changes are not rolled out until resumed' : 'Resume a paused rollout')
      .action(async (args: string[], _o: unknown, cmd: Command) => {
        const { client, namespace } = ctx(cmd);
        const name = parseDeployment(args);
        const d = await client.get('deployments', name, { namespace });
        if (Boolean(d.spec?.paused) === paused) {
          process.stdout.write(`deployment.apps/${name} is already ${paused ? 'paused' : 'resumed'}\n`);
          return;
        }
        await client.patch('deployments', name, { spec: { paused: paused ? true : null } }, { namespace });
        process.stdout.write(`deployment.apps/${name} ${paused ? 'paused' : 'resumed'}\n`);
      });
  }

  rollout
    .command('restart')
    .argument('<target...>', 'deployment/NAME')
    .description('Restart every pod of a deployment through a rolling update')
    .action(async (args: string[], _o: unknown, cmd: Command) => {
      const { client, namespace } = ctx(cmd);
      const name = parseDeployment(args);
      await client.patch('deployments', name, { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } }, { namespace });
      process.stdout.write(`deployment.apps/${name} restarted\n`);
    });
}

export { REVISION };
