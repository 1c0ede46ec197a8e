/** Shared CLI plumbing: resource names, manifests, output printing. */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { findResource, resourceForKind, type ResourceInfo } from '../api/resources.js';
import type { KObject } from '../api/types.js';
import { tableFor } from '../api/tables.js';
import { CliError } from './context.js';

export function resolveResource(name: string): ResourceInfo {
  const info = findResource(name);
  if (!info) throw new CliError(`the server doesn't have a resource type "${name}" (try: kubelab api-resources)`);
  return info;
}

/** Kinds shown by `get all`, as kubectl does. */
export const ALL_RESOURCES = ['pods', 'services', 'daemonsets', 'deployments', 'replicasets', 'statefulsets', 'jobs', 'cronjobs'];

/**
 * Parses `TYPE`, `TYPE NAME...`, `TYPE/NAME ...` and `TYPE1,TYPE2` arguments into (resource, names) pairs.
 */
export function parseTargets(args: string[]): { info: ResourceInfo; names: string[] }[] {
  if (args.length === 0) throw new CliError('you must specify the type of resource to get (e.g. pods, deployments, nodes)');
  if (args.every((a) => a.includes('/'))) {
    const out = new Map<string, { info: ResourceInfo; names: string[] }>();
    for (const a of args) {
      const [type, name] = a.split('/', 2);
      const info = resolveResource(type);
      const entry = out.get(info.resource) ?? { info, names: [] };
      entry.names.push(name);
      out.set(info.resource, entry);
    }
    return [...out.values()];
  }
  const [types, ...names] = args;
  const list = types.split(',').flatMap((t) => (t === 'all' ? ALL_RESOURCES : [t]));
  return list.map((t) => ({ info: resolveResource(t), names }));
}

/** Loads manifests from files, directories (*.yaml, *.yml, *.json) or `-` (stdin); multi-document YAML. */
export function loadManifests(paths: string[]): { source: string; obj: KObject }[] {
  const out: { source: string; obj: KObject }[] = [];
  const readOne = (source: string, text: string): void => {
    const docs = parseAllDocuments(text);
    for (const doc of docs) {
      if (doc.errors.length) throw new CliError(`error parsing ${source}: ${doc.errors[0].message}`);
      const obj = doc.toJS() as KObject | null;
      if (!obj) continue;
      if (obj.kind === 'List' && Array.isArray(obj.items)) for (const item of obj.items as KObject[]) out.push({ source, obj: item });
      else out.push({ source, obj });
    }
  };
  for (const p of paths) {
    if (p === '-') {
      readOne('stdin', readFileSync(0, 'utf8'));
      continue;
    }
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new CliError(`the path "${p}" does not exist`);
    }
    if (st.isDirectory()) {
      for (const f of readdirSync(p).sort()) if (/\.(ya?ml|json)$/.test(f)) readOne(join(p, f), readFileSync(join(p, f), 'utf8'));
    } else readOne(p, readFileSync(p, 'utf8'));
  }
  return out;
}

export function manifestResource(obj: KObject, source: string): ResourceInfo {
  if (!obj.apiVersion || !obj.kind) throw new CliError(`error validating "${source}": apiVersion and kind must be set`);
  const info = resourceForKind(obj.apiVersion, obj.kind);
  if (!info) throw new CliError(`error: resource mapping not found for kind "${obj.kind}" in version "${obj.apiVersion}" (${source})`);
  return info;
}

export function kindRef(info: ResourceInfo, name: string): string {
  return `${info.singular}${info.group ? '.' + info.group : ''}/${name}`;
}

export type OutputFormat = 'table' | 'wide' | 'yaml' | 'json' | 'name';

export function outputFormat(o: string | undefined): OutputFormat {
  if (!o) return 'table';
  if (['wide', 'yaml', 'json', 'name'].includes(o)) return o as OutputFormat;
  throw new CliError(`unable to match a printer suitable for the output format "${o}", allowed formats are: json, name, wide, yaml`);
}

/** Formats rows with columns padded to their widest cell, three spaces apart, as kubectl does. */
export function formatTable(header: string[] | undefined, rows: string[][]): string {
  const all = header ? [header, ...rows] : rows;
  const widths: number[] = [];
  for (const r of all) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('   ').trimEnd()).join('\n');
}

export function tableRows(info: ResourceInfo, objs: KObject[], opts: { wide: boolean; withNamespace: boolean }): { header: string[]; rows: string[][] } {
  const t = tableFor(info.resource, objs, { wide: opts.wide });
  const header = t.columns.map((c) => c.name.toUpperCase());
  const rows = t.rows.map((r) => r.cells.map((c) => (c === undefined || c === null ? '<none>' : String(c))));
  if (opts.withNamespace) {
    header.unshift('NAMESPACE');
    t.rows.forEach((r, i) => rows[i].unshift(r.object.metadata?.namespace ?? ''));
  }
  return { header, rows };
}

export function printObjects(info: ResourceInfo, objs: KObject[], format: OutputFormat, withNamespace: boolean, single: boolean): string {
  switch (format) {
    case 'yaml':
      return single && objs.length === 1 ? stringify(objs[0]) : stringify({ apiVersion: 'v1', kind: 'List', items: objs, metadata: { resourceVersion: '' } });
    case 'json':
      return JSON.stringify(single && objs.length === 1 ? objs[0] : { apiVersion: 'v1', kind: 'List', items: objs, metadata: { resourceVersion: '' } }, null, 4);
    case 'name':
      return objs.map((o) => kindRef(info, o.metadata?.name ?? '')).join('\n');
    default: {
      const { header, rows } = tableRows(info, objs, { wide: format === 'wide', withNamespace });
      return formatTable(header, rows);
    }
  }
}
