/**
 * Label and field selectors: the string syntax kubectl sends (`app=web,tier!=db,env in (a,b),!canary`)
 * and the structured `LabelSelector` of workload specs, compiled to one predicate form.
 */
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';

export type Requirement =
  | { key: string; op: 'In' | 'NotIn'; values: string[] }
  | { key: string; op: 'Exists' | 'DoesNotExist' };

/** A parsed selector; an empty list matches everything. */
export type Selector = readonly Requirement[];

/** Thrown when a selector string or structure cannot be parsed; message says where. */
export class SelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectorError';
  }
}

function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur.trim() !== '') parts.push(cur);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

const KEY_RE = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

function checkKey(key: string, whole: string): string {
  if (!KEY_RE.test(key)) throw new SelectorError(`invalid label key "${key}" in selector "${whole}"`);
  return key;
}

/** Parses the string form of a label selector. */
export function parseLabelSelector(s: string | undefined): Selector {
  if (!s || s.trim() === '') return [];
  const reqs: Requirement[] = [];
  for (const part of splitTopLevel(s)) {
    let m: RegExpMatchArray | null;
    if ((m = part.match(/^!\s*(\S+)$/))) {
      reqs.push({ key: checkKey(m[1], s), op: 'DoesNotExist' });
    } else if ((m = part.match(/^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/))) {
      const values = m[3].split(',').map((v) => v.trim()).filter((v) => v !== '');
      reqs.push({ key: checkKey(m[1], s), op: m[2] === 'in' ? 'In' : 'NotIn', values });
    } else if ((m = part.match(/^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/))) {
      reqs.push({ key: checkKey(m[1], s), op: m[2] === '!=' ? 'NotIn' : 'In', values: [m[3]] });
    } else if ((m = part.match(/^([^=!\s()]+)$/))) {
      reqs.push({ key: checkKey(m[1], s), op: 'Exists' });
    } else {
      throw new SelectorError(`unable to parse requirement "${part}" in selector "${s}"`);
    }
  }
  return reqs;
}

/** Compiles a structured LabelSelector. `null`/undefined selects nothing (as Kubernetes does for workloads). */
export function fromLabelSelector(sel: LabelSelector | undefined | null): Selector | undefined {
  if (!sel) return undefined;
  const reqs: Requirement[] = [];
  for (const [key, value] of Object.entries(sel.matchLabels ?? {})) reqs.push({ key, op: 'In', values: [value] });
  for (const e of sel.matchExpressions ?? []) {
    if (e.operator === 'In' || e.operator === 'NotIn') reqs.push({ key: e.key, op: e.operator, values: e.values ?? [] });
    else if (e.operator === 'Exists' || e.operator === 'DoesNotExist') reqs.push({ key: e.key, op: e.operator });
    else throw new SelectorError(`unsupported operator "${e.operator}" for key "${e.key}"`);
  }
  return reqs;
}

export function matchesLabels(sel: Selector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return sel.every((req) => {
    const has = Object.prototype.hasOwnProperty.call(l, req.key);
    switch (req.op) {
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
      case 'In':
        return has && req.values.includes(l[req.key]);
      case 'NotIn':
        return !has || !req.values.includes(l[req.key]);
    }
  });
}

/** Formats a selector back to its string form (for `kubectl`-style output and list requests). */
export function formatSelector(sel: Selector): string {
  return sel
    .map((r) => {
      switch (r.op) {
        case 'Exists':
          return r.key;
        case 'DoesNotExist':
          return `!${r.key}`;
        case 'In':
          return r.values.length === 1 ? `${r.key}=${r.values[0]}` : `${r.key} in (${r.values.join(',')})`;
        case 'NotIn':
          return r.values.length === 1 ? `${r.key}!=${r.values[0]}` : `${r.key} notin (${r.values.join(',')})`;
      }
    })
    .join(',');
}

export function labelSelectorString(sel: LabelSelector | undefined | null): string {
  return formatSelector(fromLabelSelector(sel) ?? []);
}

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

/** Parses `spec.nodeName=x,status.phase!=Running`. */
export function parseFieldSelector(s: string | undefined): FieldRequirement[] {
  if (!s || s.trim() === '') return [];
  return s.split(',').map((part) => {
    const m = part.trim().match(/^([^=!]+)(==|=|!=)(.*)$/);
    if (!m) throw new SelectorError(`invalid field selector requirement "${part}"`);
    return { field: m[1].trim(), op: m[2] === '!=' ? '!=' : '=', value: m[3].trim() };
  });
}

/** Reads a dotted field path from an object; missing values read as ''. */
export function fieldValue(obj: unknown, path: string): string {
  let cur: unknown = obj;
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[seg];
  }
  if (cur === undefined || cur === null) return '';
  return typeof cur === 'object' ? JSON.stringify(cur) : String(cur);
}

export function matchesFields(reqs: readonly FieldRequirement[], obj: unknown): boolean {
  return reqs.every((r) => (fieldValue(obj, r.field) === r.value) === (r.op === '='));
}
