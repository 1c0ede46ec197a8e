import { describe, expect, it } from 'vitest';
import { kubeletQuery } from './stream.js';

const q = (s: string): URLSearchParams => new URLSearchParams(s);

describe('kubeletQuery', () => {
  it("re-spells the Python client's exec query (stdout=True) as the kubelet's stdout=1", () => {
    const out = kubeletQuery('exec', q('command=echo&command=hi&stderr=True&stdin=False&stdout=True&tty=False'));
    expect(out.getAll('command')).toEqual(['echo', 'hi']);
    expect(Object.fromEntries([...out].filter(([k]) => k !== 'command'))).toEqual({ stdout: '1', stderr: '1' });
  });

  it("reads booleans as kube-apiserver's query conversion: only 0 and false (any case) are false", () => {
    for (const t of ['1', 't', 'TRUE', 'true', 'True', 'yes', ''])
      expect(kubeletQuery('attach', q(`stdout=${t}`)).get('stdout'), `stdout=${t}`).toBe('1');
    for (const f of ['0', 'FALSE', 'false', 'False', 'fAlSe'])
      expect(() => kubeletQuery('attach', q(`stdout=${f}`)), `stdout=${f}`).toThrow('you must specify at least 1 of stdin, stdout, stderr');
  });

  it('refuses a malformed integer, naming the parameter', () => {
    expect(() => kubeletQuery('log', q('tailLines=ten'))).toThrow('invalid value for query parameter tailLines: "ten": must be an integer');
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
