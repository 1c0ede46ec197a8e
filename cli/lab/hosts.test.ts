import { describe, expect, it } from 'vitest';
import { HostError, engine, reachable } from './hosts.js';

describe('engine(url): a Docker client for another host', () => {
  it('speaks tcp://, ssh:// and unix:// with their defaults', () => {
    const tcp = engine('tcp://10.0.0.7').modem as unknown as { host: string; port: number; protocol: string };
    expect([tcp.host, tcp.port, tcp.protocol]).toEqual(['10.0.0.7', 2375, 'http']);
    const ssh = engine('ssh://me@laptop-2:2222').modem as unknown as { host: string; port: number; protocol: string; username: string };
    expect([ssh.host, ssh.port, ssh.protocol, ssh.username]).toEqual(['laptop-2', 2222, 'ssh', 'me']);
    expect((engine('unix:///var/run/docker.sock').modem as unknown as { socketPath: string }).socketPath).toBe('/var/run/docker.sock');
  });

  it('refuses what is not a Docker URL, saying what to write instead', () => {
    for (const bad of ['10.0.0.7:2375', 'ftp://h', 'tcp://', '', 'ssh://', '%%%']) {
      expect(() => engine(bad), bad).toThrow(HostError);
    }
    expect(() => engine('ftp://h')).toThrow(/unsupported scheme ftp; use tcp:\/\/, ssh:\/\/ or unix:\/\//);
    expect(() => engine('10.0.0.7:2375')).toThrow(/use tcp:\/\/HOST:2375/);
  });

  it('names an engine that does not answer, within the time given', async () => {
    const t0 = Date.now();
    // A port nobody listens on: refused at once.
    await expect(reachable(engine('tcp://127.0.0.1:1'), 'tcp://127.0.0.1:1', 2000)).rejects.toThrow(/the Docker engine at tcp:\/\/127\.0\.0\.1:1 does not answer/);
    expect(Date.now() - t0).toBeLessThan(2500);
  });
});
