/**
 * `kubelab apply -f` (client-side apply as kubectl does it: the last applied configuration is kept in
 * the `kubectl.kubernetes.io/last-applied-configuration` annotation; fields removed from the manifest
 * since the last apply are removed from the object) and `kubelab create -f`.
 */
import type { Command } from 'commander';
import { isNotFound } from '../../api/errors.js';
import type { KObject } from '../../api/types.js';
import { cliClient, CliError } from '../context.js';
import { kindRef, loadManifests, manifestResource } from '../util.js';

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const isObj = (v: unknown): v is { [k: string]: Json } => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The patch that turns the live object into the manifest: everything the manifest says, plus `null` for
 * every field that the last applied configuration had and the manifest no longer has.
 */
export function threeWayPatch(last: Json | undefined, desired: Json): Json {
  if (!isObj(desired)) return desired;
  const out: { [k: string]: Json } = {};
  for (const [k, v] of Object.entries(desired)) out[k] = isObj(v) ? threeWayPatch(isObj(last) ? last[k] : undefined, v) : v;
  if (isObj(last)) for (const k of Object.keys(last)) if (!(k in desired)) out[k] = null;
  return out;
}

function withLastApplied(obj: KObject): KObject {
  const copy = structuredClone(obj);
  const annotations = { ...(copy.metadata?.annotations ?? {}) };
  delete annotations[LAST_APPLIED];
  const manifest = { ...copy, metadata: { ...copy.metadata, annotations } };
  if (Object.keys(annotations).length === 0) delete (manifest.metadata as { annotations?: unknown }).annotations;
  copy.metadata = { ...copy.metadata, annotations: { ...annotations, [LAST_APPLIED]: JSON.stringify(manifest) + '\n' } };
  return copy;
}

export function register(program: Command): void {
  program
    .command('apply')
    .description('Create or update resources from files, directories or stdin (kubectl apply)')
    .requiredOption('-f, --filename <path...>', 'manifest files, directories, or - for stdin')
    .option('--dry-run', 'show what would happen without storing anything')
    .action(async (opts: { filename: string[]; dryRun?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<{ server?: string; namespace?: string }>();
      const client = cliClient(g);
      let failed = false;
      for (const { source, obj } of loadManifests(opts.filename)) {
        const info = manifestResource(obj, source);
        const name = obj.metadata?.name;
        if (!name) throw new CliError(`error: ${source}: metadata.name is required for apply`);
        const namespace = info.namespaced ? (obj.metadata?.namespace ?? g.namespace ?? 'default') : '';
        const suffix = opts.dryRun ? ' (dry run)' : '';
        try {
          const desired = withLastApplied({ ...obj, metadata: { ...obj.metadata, ...(namespace ? { namespace } : {}) } });
          let live: KObject | undefined;
          try {
            live = (await client.get(info.resource, name, { namespace })) as KObject;
          } catch (err) {
            if (!isNotFound(err)) throw err;
          }
          if (!live) {
            await client.create(info.resource, desired, { namespace, dryRun: opts.dryRun });
            process.stdout.write(`${kindRef(info, name)} created${suffix}\n`);
            continue;
          }
          const lastText = live.metadata?.annotations?.[LAST_APPLIED];
          const last = lastText ? (JSON.parse(lastText) as Json) : undefined;
          const patch = threeWayPatch(last, desired as Json);
          const updated = (await client.patch(info.resource, name, patch, { namespace, type: 'strategic', dryRun: opts.dryRun })) as KObject;
          const same = updated.metadata?.resourceVersion === live.metadata?.resourceVersion;
          process.stdout.write(`${kindRef(info, name)} ${same ? 'unchanged' : 'configured'}${suffix}\n`);
        } catch (err) {
          failed = true;
          const msg = err instanceof Error ? err.message : String(err);
          process.stderr.write(`Error from server: error when applying "${source}" (${kindRef(info, name)}): ${msg}\n`);
        }
      }
      if (failed) process.exitCode = 1;
    });

  program
    .command('create')
    .description('Create resources from files or stdin (kubectl create -f), or a namespace')
    .argument('[what...]', 'namespace NAME')
    .option('-f, --filename <path...>', 'manifest files, directories, or - for stdin')
    .action(async (what: string[], opts: { filename?: string[] }, cmd: Command) => {
      const g = cmd.optsWithGlobals<{ server?: string; namespace?: string }>();
      const client = cliClient(g);
      if (!opts.filename) {
        if ((what[0] === 'namespace' || what[0] === 'ns') && what[1]) {
          await client.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: what[1] } });
          process.stdout.write(`namespace/${what[1]} created\n`);
          return;
        }
        throw new CliError('must specify -f FILE, or `create namespace NAME`');
      }
      let failed = false;
      for (const { source, obj } of loadManifests(opts.filename)) {
        const info = manifestResource(obj, source);
        const namespace = info.namespaced ? (obj.metadata?.namespace ?? g.namespace ?? 'default') : '';
        try {
          const created = (await client.create(info.resource, obj, { namespace })) as KObject;
          process.stdout.write(`${kindRef(info, created.metadata?.name ?? '')} created\n`);
        } catch (err) {
          failed = true;
          process.stderr.write(`Error from server: error when creating "${source}": ${err instanceof Error ? err.message : String(err)}\n`);
        }
      }
      if (failed) process.exitCode = 1;
    });
}
