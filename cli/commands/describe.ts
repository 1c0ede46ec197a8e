/** `kubelab describe TYPE NAME` and `kubelab events [-w]`: the object in readable form with its Events. */
import type { Command } from 'commander';
import { stringify } from 'yaml';
import type { ApiClient } from '../../client/api.js';
import type { KObject, core } from '../../api/types.js';
import { age, formatEndpoints, serviceExternalIp, servicePorts } from '../../api/tables.js';
import { isNotFound } from '../../api/errors.js';
import { cliClient } from '../context.js';
import { formatTable, parseTargets } from '../util.js';

function eventRows(events: core.Event[], withObject: boolean, now = Date.now()): string[][] {
  return events.map((e) => {
    const last = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp;
    const row = [age(last as string | undefined, now), e.type ?? '', e.reason ?? ''];
    if (withObject) row.push(`${(e.involvedObject.kind ?? '').toLowerCase()}/${e.involvedObject.name ?? ''}`);
    else row.push(e.count && e.count > 1 ? `x${e.count} over ${age(e.firstTimestamp as string | undefined, now)}` : age(e.firstTimestamp as string | undefined, now));
    row.push(e.source?.component ?? e.reportingComponent ?? '');
    row.push(e.message ?? '');
    return withObject ? [row[0], row[1], row[2], row[3], row[5]] : row;
  });
}

function byTime(a: core.Event, b: core.Event): number {
  const ta = String(a.lastTimestamp ?? a.eventTime ?? a.firstTimestamp ?? '');
  const tb = String(b.lastTimestamp ?? b.eventTime ?? b.firstTimestamp ?? '');
  return ta < tb ? -1 : ta > tb ? 1 : 0;
}

export async function eventsFor(client: ApiClient, obj: KObject): Promise<core.Event[]> {
  const ns = obj.metadata?.namespace ?? 'default';
  const list = await client.list('events', { namespace: ns, fieldSelector: `involvedObject.name=${obj.metadata?.name},involvedObject.kind=${obj.kind}` });
  return list.items.filter((e) => !e.involvedObject.uid || e.involvedObject.uid === obj.metadata?.uid).sort(byTime);
}

/** The lines kubectl users look for first in `describe service`: type, IPs, ports and the live endpoints. */
async function serviceSummary(client: ApiClient, svc: core.Service): Promise<string[]> {
  let endpoints = '<none>';
  try {
    const ep = await client.get('endpoints', svc.metadata?.name ?? '', { namespace: svc.metadata?.namespace });
    endpoints = formatEndpoints(ep) || '<none>';
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  return [
    `Type:               ${svc.spec?.type ?? 'ClusterIP'}`,
    `IP:                 ${svc.spec?.clusterIP ?? '<none>'}`,
    `External IP:        ${serviceExternalIp(svc)}`,
    `Port(s):            ${servicePorts(svc)}`,
    `Endpoints:          ${endpoints}`,
    `Session Affinity:   ${svc.spec?.sessionAffinity ?? 'None'}`,
  ];
}

export function register(program: Command): void {
  program
    .command('describe')
    .description('Show the details of a resource and its events (kubectl describe)')
    .argument('<type...>', 'TYPE NAME | TYPE/NAME')
    .action(async (args: string[], _opts: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<{ server?: string; namespace?: string }>();
      const client = cliClient(g);
      const out: string[] = [];
      for (const { info, names } of parseTargets(args)) {
        const namespace = info.namespaced ? (g.namespace ?? 'default') : '';
        const objs = names.length ? await Promise.all(names.map((n) => client.get(info.resource, n, { namespace }))) : (await client.list(info.resource, { namespace })).items;
        for (const o of objs as KObject[]) {
          const m = o.metadata ?? {};
          const lines = [
            `Name:               ${m.name}`,
            ...(m.namespace ? [`Namespace:          ${m.namespace}`] : []),
            `Kind:               ${o.kind}`,
            `Labels:             ${Object.entries(m.labels ?? {}).map(([k, v]) => `${k}=${v}`).join('\n                    ') || '<none>'}`,
            `Annotations:        ${Object.entries(m.annotations ?? {}).filter(([k]) => k !== 'kubectl.kubernetes.io/last-applied-configuration').map(([k, v]) => `${k}: ${v}`).join('\n                    ') || '<none>'}`,
            `CreationTimestamp:  ${m.creationTimestamp}`,
            ...(m.deletionTimestamp ? [`DeletionTimestamp:  ${m.deletionTimestamp}`] : []),
            ...(m.ownerReferences?.length ? [`Controlled By:      ${m.ownerReferences.map((r) => `${r.kind}/${r.name}`).join(', ')}`] : []),
          ];
          if (info.resource === 'services') lines.push(...(await serviceSummary(client, o as core.Service)));
          for (const section of ['spec', 'status', 'data', 'subsets'] as const) {
            if (o[section] === undefined) continue;
            lines.push(`${section[0].toUpperCase()}${section.slice(1)}:`);
            lines.push(...stringify(o[section]).trimEnd().split('\n').map((l) => `  ${l}`));
          }
          const events = await eventsFor(client, o);
          lines.push('Events:');
          if (events.length === 0) lines.push('  <none>');
          else lines.push(...formatTable(['Type', 'Reason', 'Age', 'From', 'Message'], eventRows(events, false).map((r) => [r[1], r[2], r[0], r[4], r[5]])).split('\n').map((l) => `  ${l}`));
          out.push(lines.join('\n'));
        }
      }
      process.stdout.write(out.join('\n\n\n') + '\n');
    });

  program
    .command('events')
    .description('List events, oldest first (kubectl events); -w to follow')
    .option('-A, --all-namespaces', 'events of every namespace')
    .option('-w, --watch', 'keep printing new events')
    .option('--for <type/name>', 'only events about this object')
    .action(async (opts: { allNamespaces?: boolean; watch?: boolean; for?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<{ server?: string; namespace?: string }>();
      const client = cliClient(g);
      const namespace = opts.allNamespaces ? '' : (g.namespace ?? 'default');
      let fieldSelector: string | undefined;
      if (opts.for) {
        const [{ info, names }] = parseTargets([opts.for]);
        fieldSelector = `involvedObject.kind=${info.kind},involvedObject.name=${names[0]}`;
      }
      const list = await client.list('events', { namespace, fieldSelector });
      const events = list.items.sort(byTime);
      const header = ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'];
      const withNs = (rows: string[][], evs: core.Event[]): string[][] => (opts.allNamespaces ? rows.map((r, i) => [evs[i].metadata?.namespace ?? '', ...r]) : rows);
      const hdr = opts.allNamespaces ? ['NAMESPACE', ...header] : header;
      if (events.length === 0 && !opts.watch) {
        process.stderr.write(`No events found${namespace ? ` in ${namespace} namespace` : ''}.\n`);
        return;
      }
      process.stdout.write(formatTable(hdr, withNs(eventRows(events, true), events)) + '\n');
      if (!opts.watch) return;
      const ctl = new AbortController();
      process.once('SIGINT', () => ctl.abort());
      try {
        for await (const ev of client.watch('events', { namespace, fieldSelector, resourceVersion: list.metadata.resourceVersion, signal: ctl.signal })) {
          if (ev.type === 'BOOKMARK' || ev.type === 'DELETED') continue;
          process.stdout.write(withNs(eventRows([ev.object], true), [ev.object]).map((r) => r.join('   ')).join('\n') + '\n');
        }
      } catch (err) {
        if (!ctl.signal.aborted) throw err;
      }
    });
}
