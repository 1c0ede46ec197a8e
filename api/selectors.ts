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

/** Longest label key (prefix ≤ 253, '/', name ≤ 63) and value, as Kubernetes validates them. */
const MAX_PREFIX = 253;
const MAX_NAME = 63;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** A selector as it may be echoed in an error: long inputs are cut so errors stay small. */
function shown(s: string): string {
  return s.length > 100 ? `${s.slice(0, 100)}…(${s.length} characters)` : s;
}

/**
 * Label keys are checked piecewise (each regex runs on a length-checked piece of at most 63
 * characters), so a hostile key costs one pass, never a backtracking search.
 */
function checkKey(key: string, whole: string): string {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : '';
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const bad = (why: string): never => {
    throw new SelectorError(`invalid label key "${shown(key)}" in selector "${shown(whole)}": ${why}`);
  };
  if (slash >= 0) {
    if (prefix.length === 0 || prefix.length > MAX_PREFIX) bad(`prefix part must be no more than ${MAX_PREFIX} characters`);
    for (const part of prefix.split('.')) if (part.length > MAX_NAME || !DNS_LABEL.test(part)) bad('prefix part must be a lowercase RFC 1123 subdomain');
  }
  if (name.length === 0 || name.length > MAX_NAME) bad(`name part must be no more than ${MAX_NAME} characters`);
  if (!QUALIFIED_NAME.test(name)) bad("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character");
  return key;
}

function checkValue(value: string, whole: string): string {
  if (value.length > MAX_NAME || !LABEL_VALUE.test(value))
    throw new SelectorError(
      `invalid label value "${shown(value)}" in selector "${shown(whole)}": must be no more than ${MAX_NAME} characters, alphanumeric, '-', '_' or '.', starting and ending with an alphanumeric character`,
    );
  return value;
}

type Token = { kind: 'id'; text: string; at: number } | { kind: '!' | '=' | '==' | '!=' | '(' | ')' | ',' | 'end'; at: number };

/** Splits a label selector into tokens in one pass (Kubernetes' labels.Lexer). */
function lex(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const special = (c: string): boolean => c === '!' || c === '=' || c === '(' || c === ')' || c === ',' || c === '<' || c === '>';
  const space = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
  while (i < s.length) {
    const c = s[i];
    if (space(c)) {
      i++;
    } else if (c === '!' && s[i + 1] === '=') {
      out.push({ kind: '!=', at: i });
      i += 2;
    } else if (c === '=' && s[i + 1] === '=') {
      out.push({ kind: '==', at: i });
      i += 2;
    } else if (c === '!' || c === '=' || c === '(' || c === ')' || c === ',') {
      out.push({ kind: c, at: i });
      i++;
    } else if (c === '<' || c === '>') {
      throw new SelectorError(`unable to parse requirement at position ${i} of selector "${shown(s)}": the operators gt/lt ('${c}') are not supported`);
    } else {
      const start = i;
      while (i < s.length && !space(s[i]) && !special(s[i])) i++;
      out.push({ kind: 'id', text: s.slice(start, i), at: start });
    }
  }
  out.push({ kind: 'end', at: s.length });
  return out;
}

/**
 * Parses the string form of a label selector in linear time: `a=b`, `a==b`, `a!=b`, `a in (x,y)`,
 * `a notin (x)`, `a`, `!a`, joined by commas. Errors name the position and the whole selector.
 */
export function parseLabelSelector(s: string | undefined): Selector {
  if (!s || s.trim() === '') return [];
  const toks = lex(s);
  let p = 0;
  const fail = (t: Token, expected: string): never => {
    const found = t.kind === 'id' ? `'${shown(t.text)}'` : t.kind === 'end' ? 'end of string' : `'${t.kind}'`;
    throw new SelectorError(`unable to parse requirement at position ${t.at} of selector "${shown(s)}": found ${found}, expected: ${expected}`);
  };
  const key = (): string => {
    const t = toks[p++];
    return t.kind === 'id' ? checkKey(t.text, s) : fail(t, 'a label key');
  };
  const reqs: Requirement[] = [];
  for (;;) {
    if (toks[p].kind === '!') {
      p++;
      reqs.push({ key: key(), op: 'DoesNotExist' });
    } else {
      const k = key();
      const op = toks[p];
      if (op.kind === ',' || op.kind === 'end') {
        reqs.push({ key: k, op: 'Exists' });
      } else if (op.kind === '=' || op.kind === '==' || op.kind === '!=') {
        p++;
        const v = toks[p];
        let value = '';
        if (v.kind === 'id') {
          value = v.text;
          p++;
        } else if (v.kind !== ',' && v.kind !== 'end') fail(v, 'a label value');
        reqs.push({ key: k, op: op.kind === '!=' ? 'NotIn' : 'In', values: [checkValue(value, s)] });
      } else if (op.kind === 'id' && (op.text === 'in' || op.text === 'notin')) {
        p++;
        if (toks[p].kind !== '(') fail(toks[p], "'('");
        p++;
        const values: string[] = [];
        for (;;) {
          const v = toks[p];
          if (v.kind === 'id') {
            values.push(checkValue(v.text, s));
            p++;
          }
          const sep = toks[p++];
          if (sep.kind === ')') break;
          if (sep.kind !== ',') fail(sep, "',' or ')'");
        }
        reqs.push({ key: k, op: op.text === 'in' ? 'In' : 'NotIn', values });
      } else fail(op, "in, notin, =, ==, !=, ',' or end of string");
    }
    const sep = toks[p++];
    if (sep.kind === 'end') return reqs;
    if (sep.kind !== ',') fail(sep, "',' or end of string");
  }
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

/**
 * Parses `spec.nodeName=x,status.phase!=Running` in one pass, as Kubernetes' fields.ParseSelector:
 * `\\` escapes `,`, `=`, `!` and `\\` in values; operators are `=`, `==` and `!=`.
 */
export function parseFieldSelector(s: string | undefined): FieldRequirement[] {
  if (!s || s.trim() === '') return [];
  const out: FieldRequirement[] = [];
  let i = 0;
  while (i <= s.length) {
    const start = i;
    let field = '';
    let op: '=' | '!=' | undefined;
    // The field: up to the first unescaped operator.
    while (i < s.length && op === undefined) {
      const c = s[i];
      if (c === '\\') throw new SelectorError(`invalid field selector "${shown(s)}": a field name may not contain '\\' (position ${i})`);
      if (c === ',') break;
      if (c === '!' && s[i + 1] === '=') {
        op = '!=';
        i += 2;
      } else if (c === '=') {
        op = '=';
        i += s[i + 1] === '=' ? 2 : 1;
      } else {
        field += c;
        i++;
      }
    }
    field = field.trim();
    if (op === undefined && field === '') {
      i++; // an empty term ("a=b,,c=d" or a trailing comma) is skipped, as Kubernetes does
      continue;
    }
    if (op === undefined || field === '')
      throw new SelectorError(`invalid field selector "${shown(s)}": the requirement at position ${start} is not <field>=<value>, <field>==<value> or <field>!=<value>`);
    let value = '';
    while (i < s.length && s[i] !== ',') {
      if (s[i] === '\\') {
        const next = s[i + 1];
        if (next !== '\\' && next !== ',' && next !== '=' && next !== '!')
          throw new SelectorError(`invalid field selector "${shown(s)}": invalid escape sequence at position ${i}`);
        value += next;
        i += 2;
      } else value += s[i++];
    }
    out.push({ field, op, value: value.trim() });
    i++; // past the comma (or the end)
  }
  return out;
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
