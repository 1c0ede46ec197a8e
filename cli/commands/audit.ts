/**
 * `kubelab audit [-f] [--tail N] [--user U] [--verb V] [--resource R] [--failed] [-o json]`: the lab apiserver's
 * audit log (deploy/audit-policy.yaml decides what is in it), read from the apiserver container with `tail`.
 */
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import type { Command } from 'commander';
import Docker from 'dockerode';
import { Lab, LabError } from '../lab/lab.js';
import { AUDIT_LOG_PATH } from '../lab/spec.js';
import { CliError } from '../context.js';
import { clusterName } from './lab.js';
import { FOLLOW_WIDTHS, HEADER, columns, matches, parseAuditLine, row, type AuditFilter } from '../audit/view.js';

interface Opts {
  cluster?: string;
  follow?: boolean;
  tail: string;
  user?: string;
  verb?: string;
  resource?: string;
  failed?: boolean;
  output?: string;
}

export function register(program: Command): void {
  program
    .command('audit')
    .description("Show the lab apiserver's audit log: who did what, when, with which answer (REST and gRPC)")
    .option('--cluster <name>', 'lab cluster name (default: $KUBELAB_CLUSTER, the lab in this checkout, or kubelab)')
    .option('-f, --follow', 'keep printing new events')
    .option('--tail <n>', 'events from the end of the log to read (-1: all)', '50')
    .option('--user <name>', "only this user's requests (kubernetes-admin, system:node:worker-1, system:serviceaccount:ns:name)")
    .option('--verb <verb>', 'only this verb (get, list, watch, create, update, patch, delete)')
    .option('--resource <resource>', 'only this resource (pods, or pods/exec for a subresource)')
    .option('--failed', 'only refused or failed requests (code 400 and above)')
    .option('-o, --output <format>', 'table (default) or json (the events as written, one per line)')
    .action(async (opts: Opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<{ namespace?: string }>();
      const tail = Number(opts.tail);
      if (!Number.isInteger(tail) || tail < -1) throw new CliError(`--tail: "${opts.tail}" must be a whole number of events, or -1 for all`);
      const output = opts.output ?? 'table';
      if (output !== 'table' && output !== 'json') throw new CliError(`--output: "${output}" is not one of table, json`);
      const filter: AuditFilter = { user: opts.user, verb: opts.verb, resource: opts.resource, namespace: g.namespace, failed: opts.failed };
      await show(clusterName(opts.cluster), { follow: opts.follow === true, tail, output, filter });
    });
}

async function show(cluster: string, o: { follow: boolean; tail: number; output: 'table' | 'json'; filter: AuditFilter }): Promise<void> {
  const docker = new Docker();
  let apiserver: Docker.ContainerInspectInfo;
  try {
    apiserver = await (await Lab.fromDocker(cluster, docker)).apiserver();
  } catch (err) {
    if (err instanceof LabError) throw new CliError(err.message);
    throw err;
  }
  if (!apiserver.State.Running) throw new CliError(`the apiserver of lab ${cluster} is not running (kubelab lab status); its audit log is read from its container`);
  if (!apiserver.Config.Cmd?.includes('--audit-log-path') && !apiserver.Config.Cmd?.some((a) => a.startsWith('--audit-log-path='))) {
    throw new CliError(`lab ${cluster}'s apiserver writes no audit log (it runs without --audit-log-path: a lab made with security off)`);
  }
  // -F follows the log across rotation (the apiserver renames it to audit.log.1 at 10 MB). Docker does not stop
  // an exec'd process when its client goes, so a follow first prints its pid, which stop() kills.
  const tail = `tail -n ${o.tail < 0 ? '+1' : String(o.tail)}${o.follow ? ' -F' : ''} ${AUDIT_LOG_PATH}`;
  const container = docker.getContainer(apiserver.Id);
  const exec = await container.exec({ Cmd: ['sh', '-c', o.follow ? `echo "pid $$"; exec ${tail}` : `exec ${tail}`], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  docker.modem.demuxStream(stream, stdout, stderr);
  stream.on('end', () => {
    stdout.end();
    stderr.end();
  });
  let errText = '';
  stderr.on('data', (b: Buffer) => (errText += b.toString()));
  let pid: string | undefined;
  const stop = (): void => {
    const kill = pid ? container.exec({ Cmd: ['sh', '-c', `kill ${pid}`] }).then((e) => e.start({ Detach: true })) : Promise.resolve();
    kill.catch(() => undefined).finally(() => {
      stream.destroy();
      stdout.end();
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let skipped = 0;
  let shown = 0;
  const pending: string[][] = [];
  try {
    for await (const line of createInterface({ input: stdout, crlfDelay: Infinity })) {
      if (!line.trim()) continue;
      if (o.follow && pid === undefined && /^pid \d+$/.test(line)) {
        pid = line.slice(4);
        continue;
      }
      const parsed = parseAuditLine(line);
      if ('error' in parsed) {
        skipped++;
        continue;
      }
      if (!matches(parsed.event, o.filter)) continue;
      shown++;
      if (o.output === 'json') process.stdout.write(`${line}\n`);
      else if (o.follow) process.stdout.write(`${columns(shown === 1 ? [[...HEADER], row(parsed.event)] : [row(parsed.event)], FOLLOW_WIDTHS)}\n`);
      else pending.push(row(parsed.event));
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  if (o.output === 'table' && !o.follow) {
    if (pending.length > 0) process.stdout.write(`${columns([[...HEADER], ...pending])}\n`);
  }
  if (/No such file|cannot open/.test(errText) && shown === 0) process.stderr.write('no audit events yet (the apiserver writes its first on the first request the policy keeps)\n');
  else if (shown === 0) process.stderr.write(`no audit events match in the last ${o.tail < 0 ? 'all' : o.tail} (widen --tail, or drop a filter)\n`);
  if (skipped > 0) process.stderr.write(`skipped ${skipped} line(s) that are not audit events\n`);
}
