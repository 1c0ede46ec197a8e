/**
 * kube-apiserver's --token-auth-file: a CSV of `token,user,uid,"group1,group2"` lines; a bearer token
 * equal to one of the tokens authenticates as that user. The lab's tests use it to act as a node or a
 * component until client certificates exist.
 */
import { readFileSync } from 'node:fs';
import { ALL_AUTHENTICATED, type UserInfo } from './user.js';

export class TokenFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenFileError';
  }
}

/** Parses the file's text; throws TokenFileError naming the line. */
export function parseTokenFile(text: string): Map<string, UserInfo> {
  const out = new Map<string, UserInfo>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const fields = splitCsv(line);
    if (fields.length < 3) throw new TokenFileError(`token file line ${i + 1}: expected token,user,uid[,"groups"], got ${fields.length} field(s)`);
    const [token, name, uid, groups = ''] = fields;
    if (!token || !name) throw new TokenFileError(`token file line ${i + 1}: the token and the user name may not be empty`);
    out.set(token, { name, ...(uid ? { uid } : {}), groups: [...groups.split(',').map((g) => g.trim()).filter(Boolean), ALL_AUTHENTICATED] });
  });
  return out;
}

function splitCsv(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  out.push(cur.trim());
  return out;
}

export function loadTokenFile(path: string): Map<string, UserInfo> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TokenFileError(`--token-auth-file: ${(err as Error).message}`);
  }
  return parseTokenFile(text);
}
