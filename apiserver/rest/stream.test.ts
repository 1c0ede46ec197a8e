import { describe, expect, it } from 'vitest';
import { kubeletQuery, parseBoolParam } from './stream.js';

const q = (s: string): URLSearchParams => new URLSearchParams(s);

describe('kubeletQuery', () => {
  it("re-spells the Python client's exec query (stdout=True) as the kubelet's stdout=1", () => {
    const out = kubeletQuery('exec', q('command=echo&command=hi&stderr=True&stdin=False&stdout=True&tty=False'));
    expect(out.getAll('command')).toEqual(['echo', 'hi']);
    expect(Object.fromEntries([...out].filter(([k]) => k !== 'command'))).toEqual({ stdout: '1', stderr: '1' });
  });

  it('accepts every spelling of strconv.ParseBool', () => {
    for (const t of ['1', 't', 'T', 'TRUE', 'true', 'True']) expect(parseBoolParam('stdin', t)).toBe(true);
    for (const f of ['0', 'f', 'F', 'FALSE', 'false', 'False']) expect(parseBoolParam('stdin', f)).toBe(false);
  });

  it('refuses a value that is not a boolean, naming the parameter', () => {
    expect(() => kubeletQuery('attach', q('stdout=yes'))).toThrow('invalid value "yes" for query parameter "stdout": must be a boolean');
  });

  it('needs at least one stream, and a command for exec', () => {
    expect(() => kubeletQuery('attach', q('stdin=false&tty=true'))).toThrow('you must specify at least 1 of stdin, stdout, stderr');
    expect(() => kubeletQuery('exec', q('stdout=true'))).toThrow('you must specify at least one command for the container');
  });

  it("turns port-forward's ports into the kubelet's port and log flags into true", () => {
    expect(kubeletQuery('portforward', q('ports=80&ports=8080,9090')).toString()).toBe('port=80&port=8080%2C9090');
    expect(kubeletQuery('log', q('follow=True&previous=0&tailLines=3')).toString()).toBe('tailLines=3&follow=true');
  });
});
