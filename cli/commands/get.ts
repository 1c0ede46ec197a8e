/** `kubelab get`: kubectl-like tables, -o yaml|json|wide|name, -l, --field-selector, -n, -A, -w. */
import type { Command } from 'commander';
import { isNotFound } from '../../api/errors.js';
import type { KObject } from '../../api/types.js';
import { cliClient, CliError } from '../context.js';
import { formatTable, outputFormat, parseTargets, printObjects, tableRows } from '../util.js';

export function register(program: Command): void {
  program
    .command('get')
    .description('Display one or many resources (kubectl get)')
    .argument('<type...>', 'TYPE [NAME...] | TYPE/NAME... | all')
    .option('-o, --output <format>', 'yaml | json | wide | name')
    .option('-l, --selector <selector>', 'label selector, e.g. app=web,tier!=db')
    .option('--field-selector <selector>', 'field selector, e.g. spec.nodeName=worker-1')
    .option('-A, --all-namespaces', 'list across all namespaces')
    .option('-w, --watch', 'after listing, watch for changes')
    .action(async (args: string[], opts: { output?: string; selector?: string; fieldSelector?: string; allNamespaces?: boolean; watch?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<{ server?: string; namespace?: string }>();
      const client = cliClient(g);
      const format = outputFormat(opts.output);
      const targets = parseTargets(args);
      const multi = targets.length > 1;
      const sections: string[] = [];
      const errors: string[] = [];
      for (const { info, names } of targets) {
        const namespace = info.namespaced ? (opts.allNamespaces ? '' : (g.namespace ?? 'default')) : '';
        const withNs = info.namespaced && !!opts.allNamespaces;
        let objs: KObject[] = [];
        let rv = '';
        if (names.length) {
          for (const name of names) {
            try {
              objs.push(await client.get(info.resource, name, { namespace }));
            } catch (err) {
              if (isNotFound(err)) errors.push(`Error from server (NotFound): ${info.resource}${info.group ? '.' + info.group : ''} "${name}" not found`);
              else throw err;
            }
          }
        } else {
          const list = await client.list(info.resource, { namespace, labelSelector: opts.selector, fieldSelector: opts.fieldSelector });
          objs = list.items as KObject[];
          rv = list.metadata.resourceVersion ?? '';
        }
        if (opts.watch) {
          await watch(client, info, namespace, objs, rv, format, withNs, opts, names);
          return;
        }
        if (objs.length === 0) continue;
        let text = printObjects(info, objs, format, withNs, names.length === 1 && !multi);
        if (multi && (format === 'table' || format === 'wide')) {
          const { header, rows } = tableRows(info, objs, { wide: format === 'wide', withNamespace: withNs });
          header[withNs ? 1 : 0] = 'NAME';
          rows.forEach((r) => (r[withNs ? 1 : 0] = `${info.resource === 'services' ? 'service' : info.singular}${info.group ? '.' + info.group : ''}/${r[withNs ? 1 : 0]}`));
          text = formatTable(header, rows);
        }
        sections.push(text);
      }
      if (sections.length) process.stdout.write(sections.join('\n\n') + '\n');
      else if (errors.length === 0) {
        const ns = targets[0].info.namespaced && !opts.allNamespaces ? ` in ${g.namespace ?? 'default'} namespace` : '';
        process.stderr.write(`No resources found${ns}.\n`);
      }
      if (errors.length) {
        process.stderr.write(errors.join('\n') + '\n');
        process.exitCode = 1;
      }
    });
}

async function watch(
  client: ReturnType<typeof cliClient>,
  info: ReturnType<typeof parseTargets>[number]['info'],
  namespace: string,
  initial: KObject[],
  rv: string,
  format: ReturnType<typeof outputFormat>,
  withNs: boolean,
  opts: { selector?: string; fieldSelector?: string },
  names: string[],
): Promise<void> {
  const table = format === 'table' || format === 'wide';
  let widths: number[] | undefined;
  const print = (objs: KObject[], header: boolean): void => {
    if (!table) {
      for (const o of objs) process.stdout.write(printObjects(info, [o], format, withNs, true) + (format === 'yaml' ? '---\n' : '\n'));
      return;
    }
    const t = tableRows(info, objs, { wide: format === 'wide', withNamespace: withNs });
    const all = header ? [t.header, ...t.rows] : t.rows;
    widths ??= t.header.map((h, i) => Math.max(h.length, ...t.rows.map((r) => r[i].length)) + 3);
    for (const r of all) process.stdout.write(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths?.[i] ?? c.length + 3))).join('').trimEnd() + '\n');
  };
  print(initial, true);
  const fieldSelector = names.length === 1 ? [opts.fieldSelector, `metadata.name=${names[0]}`].filter(Boolean).join(',') : opts.fieldSelector;
  const ctl = new AbortController();
  process.once('SIGINT', () => ctl.abort());
  try {
    for await (const ev of client.watch(info.resource, { namespace, labelSelector: opts.selector, fieldSelector, resourceVersion: rv || undefined, signal: ctl.signal })) {
      if (ev.type === 'BOOKMARK') continue;
      print([ev.object as KObject], false);
    }
  } catch (err) {
    if (!ctl.signal.aborted) throw err instanceof Error ? err : new CliError(String(err));
  }
}
