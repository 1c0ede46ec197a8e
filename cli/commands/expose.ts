/**
 * `kubelab expose deployment|rs|statefulset|pod|svc NAME --port P [--target-port T] [--type T] [--name N]`:
 * creates a Service whose selector is the workload's (kubectl expose).
 */
import type { Command } from 'commander';
import { findResource } from '../../api/resources.js';
import type { apps, core, KObject } from '../../api/types.js';
import { cliClient, CliError } from '../context.js';

const EXPOSABLE = new Set(['deployments', 'replicasets', 'statefulsets', 'daemonsets', 'pods', 'services']);
const TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer'];

export interface ExposeOptions {
  port?: string;
  targetPort?: string;
  type?: string;
  name?: string;
  protocol?: string;
  selector?: string;
  portName?: string;
}

function parseSelector(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of s.split(',').map((x) => x.trim()).filter(Boolean)) {
    const m = part.match(/^([^=!\s]+)==?([^=\s]*)$/);
    if (!m) throw new CliError(`--selector: "${part}" is not key=value (expose supports equality selectors only)`);
    out[m[1] ?? ''] = m[2] ?? '';
  }
  return out;
}

/** The Service `kubelab expose` creates for `obj` (a workload of `resource`); throws CliError on bad input. */
export function exposedService(resource: string, obj: KObject, o: ExposeOptions): core.Service {
  const name = o.name ?? obj.metadata?.name ?? '';
  const namespace = obj.metadata?.namespace;
  let selector: Record<string, string> | undefined;
  let podSpec: core.PodSpec | undefined;
  let sourcePorts: core.ServicePort[] | undefined;
  if (o.selector) selector = parseSelector(o.selector);
  else if (resource === 'pods') selector = obj.metadata?.labels;
  else if (resource === 'services') selector = (obj as core.Service).spec?.selector;
  else {
    const sel = (obj as apps.Deployment).spec?.selector;
    if (sel?.matchExpressions?.length)
      throw new CliError(`cannot expose ${resource}/${obj.metadata?.name}: its selector has matchExpressions; pass --selector key=value`);
    selector = sel?.matchLabels;
  }
  if (resource === 'pods') podSpec = (obj as core.Pod).spec;
  else if (resource === 'services') sourcePorts = (obj as core.Service).spec?.ports;
  else podSpec = (obj as apps.Deployment).spec?.template?.spec;
  if (!selector || Object.keys(selector).length === 0)
    throw new CliError(`couldn't find a selector for ${resource}/${obj.metadata?.name}: pass --selector`);

  const type = o.type ?? 'ClusterIP';
  if (!TYPES.includes(type)) throw new CliError(`--type: "${type}" must be one of ${TYPES.join(', ')}`);
  const protocol = (o.protocol ?? 'TCP').toUpperCase();
  if (!['TCP', 'UDP', 'SCTP'].includes(protocol)) throw new CliError(`--protocol: "${o.protocol}" must be TCP, UDP or SCTP`);
  const target = (v: string): number | string => (/^\d+$/.test(v) ? Number(v) : v);

  let ports: core.ServicePort[];
  if (o.port !== undefined) {
    const port = Number(o.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new CliError(`--port: "${o.port}" is not a port number`);
    ports = [{ port, protocol, targetPort: target(o.targetPort ?? String(port)), ...(o.portName ? { name: o.portName } : {}) }];
  } else if (sourcePorts?.length) {
    ports = sourcePorts.map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.port, protocol: p.protocol ?? 'TCP', targetPort: p.targetPort ?? p.port }));
  } else {
    const cports = (podSpec?.containers ?? []).flatMap((c) => c.ports ?? []);
    if (cports.length === 0) throw new CliError(`couldn't find a port for ${resource}/${obj.metadata?.name}: pass --port`);
    ports = cports.map((p, i) => ({
      ...(cports.length > 1 ? { name: p.name ?? `port-${i + 1}` } : {}),
      port: p.containerPort,
      protocol: p.protocol ?? 'TCP',
      targetPort: o.targetPort !== undefined ? target(o.targetPort) : p.containerPort,
    }));
  }
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, ...(namespace ? { namespace } : {}), ...(obj.metadata?.labels ? { labels: { ...obj.metadata.labels } } : {}) },
    spec: { type, selector: { ...selector }, ports },
  };
}

export function register(program: Command): void {
  program
    .command('expose')
    .description('Expose a deployment, replica set, stateful set, pod or service as a new Service (kubectl expose)')
    .argument('<target...>', 'TYPE NAME or TYPE/NAME')
    .option('--port <port>', 'the Service port (default: the workload\'s container ports)')
    .option('--target-port <port>', 'container port number or name the Service sends to (default: --port)')
    .option('--type <type>', 'ClusterIP, NodePort or LoadBalancer', 'ClusterIP')
    .option('--name <name>', 'name of the new Service (default: the workload\'s)')
    .option('--protocol <proto>', 'TCP, UDP or SCTP', 'TCP')
    .option('--port-name <name>', 'name of the Service port')
    .option('-l, --selector <k=v,...>', 'selector to use instead of the workload\'s')
    .action(async (args: string[], opts: ExposeOptions, cmd: Command) => {
      const g = cmd.optsWithGlobals<{ server?: string; namespace?: string }>();
      const client = cliClient(g);
      const namespace = g.namespace ?? 'default';
      let [type, name] = args;
      if (type?.includes('/')) [type, name] = type.split('/', 2);
      const info = type ? findResource(type) : undefined;
      if (!info || !EXPOSABLE.has(info.resource)) throw new CliError(`cannot expose "${type}": expected deployment, replicaset, statefulset, daemonset, pod or service`);
      if (!name) throw new CliError('expected TYPE NAME');
      const obj = await client.get(info.resource, name, { namespace });
      const svc = exposedService(info.resource, obj as KObject, opts);
      const created = await client.create('services', svc, { namespace });
      process.stdout.write(`service/${created.metadata?.name} exposed\n`);
    });
}
