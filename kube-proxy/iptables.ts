/** Runs iptables / ip in this process's network namespace (the node container's). */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { parseCidr, ipToNumber } from '../api/cidr.js';
import { JUMP_RULES, parseChains } from './rules.js';

/** Thrown when an iptables/ip command fails; carries the command and its stderr. */
export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly stderr: string,
    readonly exitCode: number | undefined,
  ) {
    super(`${command} failed (exit ${exitCode ?? '?'}): ${stderr.trim().slice(0, 500)}`);
    this.name = 'CommandError';
  }
}

export function run(cmd: string, args: readonly string[], stdin?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) {
        const code = typeof err.code === 'number' ? err.code : undefined;
        reject(new CommandError(`${cmd} ${args.join(' ')}`.slice(0, 200), stderr || err.message, code));
      } else resolve(stdout);
    });
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

/**
 * True when this process runs in a container (so iptables rules land in the container's network
 * namespace, not the Docker host's firewall).
 */
export function inContainer(): boolean {
  if (existsSync('/.dockerenv') || existsSync('/run/.containerenv')) return true;
  try {
    return /docker|containerd|kubepods|libpod/.test(readFileSync('/proc/1/cgroup', 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Why this network namespace looks like the Docker host's own (undefined when it does not): not a
 * container, or it holds Docker's bridges / veths. The second check matters where the Docker host is
 * itself a container (as on the development machines), so that "in a container" alone is not enough.
 */
export function hostNamespaceReason(): string | undefined {
  let names = Object.keys(networkInterfaces());
  try {
    names = [...new Set([...names, ...readdirSync('/sys/class/net')])];
  } catch {
    // no sysfs: the address-bearing interfaces above still show docker0 / br-*
  }
  const docker = names.filter((n) => n === 'docker0' || /^br-[0-9a-f]{12}$/.test(n) || n.startsWith('veth'));
  if (docker.length > 0) return `this network namespace holds Docker's interfaces (${docker.slice(0, 3).join(', ')}): it is the Docker host's`;
  if (!inContainer()) return 'this does not look like a container';
  return undefined;
}

export function readSysctl(name: string): string | undefined {
  try {
    return readFileSync(`/proc/sys/${name.replace(/\./g, '/')}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export class Iptables {
  constructor(private readonly bin: string) {}

  async chains(): Promise<{ nat: string[]; filter: string[] }> {
    const nat = await run(`${this.bin}-save`, ['-t', 'nat']);
    const filter = await run(`${this.bin}-save`, ['-t', 'filter']);
    return parseChains(`${nat}\n${filter}`);
  }

  async restore(text: string): Promise<void> {
    await run(`${this.bin}-restore`, ['--noflush', '-w', '5'], text);
  }

  /** Makes sure the built-in chains jump into ours (idempotent: -C, then -I when missing). */
  async ensureJumps(): Promise<void> {
    for (const [table, chain, rule] of JUMP_RULES) {
      try {
        await run(this.bin, ['-w', '5', '-t', table, '-C', chain, ...rule]);
      } catch (err) {
        if (!(err instanceof CommandError) || err.exitCode !== 1) throw err;
        await run(this.bin, ['-w', '5', '-t', table, '-I', chain, '1', ...rule]);
      }
    }
  }
}

/**
 * Keeps exactly the wanted LoadBalancer IPs (those inside `cidr`) on `lo`: with the kernel's default
 * arp_ignore=0 the node then answers ARP for them on the lab network, so the Docker host can reach
 * them. Addresses outside `cidr` are never touched.
 */
export async function syncLoopbackIPs(wanted: readonly string[], cidr: string): Promise<{ added: string[]; removed: string[] }> {
  const { base, size } = parseCidr(cidr);
  const inRange = (ip: string): boolean => {
    const n = ipToNumber(ip);
    return n !== undefined && n >= base && n < base + size;
  };
  const out = await run('ip', ['-4', '-o', 'addr', 'show', 'dev', 'lo']);
  const have = new Set([...out.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\/32/g)].map((m) => m[1] ?? '').filter(inRange));
  const want = new Set(wanted.filter(inRange));
  const added: string[] = [];
  const removed: string[] = [];
  for (const ip of want)
    if (!have.has(ip)) {
      await run('ip', ['addr', 'add', `${ip}/32`, 'dev', 'lo']);
      added.push(ip);
    }
  for (const ip of have)
    if (!want.has(ip)) {
      await run('ip', ['addr', 'del', `${ip}/32`, 'dev', 'lo']);
      removed.push(ip);
    }
  return { added, removed };
}

/** Drops UDP conntrack entries towards endpoints that left, so datagrams stop going to them. */
export async function clearUdpConntrack(endpointIPs: readonly string[]): Promise<void> {
  for (const ip of endpointIPs) {
    try {
      await run('conntrack', ['-D', '-p', 'udp', '--reply-src', ip]);
    } catch {
      // Exit 1 means "no entries"; a missing conntrack binary only costs stale UDP flows.
    }
  }
}
