/**
 * The cluster DNS server (UDP and TCP): answers names under the cluster domain from the Services and
 * Endpoints caches (records.ts), forwards other names to the resolvers of this container's
 * /etc/resolv.conf only, and answers NXDOMAIN when that fails.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { Logger } from 'pino';
import { resolve, type Answer, type DnsView } from './records.js';

export interface DnsServerOptions {
  port: number;
  bindAddress: string;
  domain: string;
  upstreams: readonly string[];
  forwardTimeoutMs: number;
  view: DnsView;
  log: Logger;
}

export interface DnsServer {
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** Answers one wire-format query (exposed for in-process tests). */
  handle(query: Buffer): Promise<Buffer | undefined>;
  close(): Promise<void>;
}

const RCODE_NXDOMAIN = 3;
const RCODE_SERVFAIL = 2;

function toRecord(a: Answer): dnsPacket.Answer {
  switch (a.type) {
    case 'A':
      return { type: 'A', name: a.name, ttl: a.ttl, class: 'IN', data: a.data };
    case 'PTR':
      return { type: 'PTR', name: a.name, ttl: a.ttl, class: 'IN', data: a.data };
    case 'SRV':
      return { type: 'SRV', name: a.name, ttl: a.ttl, class: 'IN', data: a.data };
  }
}

function forwardUdp(query: Buffer, upstream: string, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    const sock = dgram.createSocket('udp4');
    const id = query.readUInt16BE(0);
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error(`upstream ${upstream} timed out`));
    }, timeoutMs);
    sock.on('message', (msg) => {
      if (msg.length < 2 || msg.readUInt16BE(0) !== id) return;
      clearTimeout(timer);
      sock.close();
      resolvePromise(msg);
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      sock.close();
      reject(err);
    });
    sock.send(query, 53, upstream);
  });
}

export async function startDnsServer(o: DnsServerOptions): Promise<DnsServer> {
  const log = o.log;

  const reply = (q: dnsPacket.DecodedPacket, rcode: number, answers: dnsPacket.Answer[] = [], additionals: dnsPacket.Answer[] = [], authoritative = true): Buffer => {
    const rd = (q.flags ?? 0) & dnsPacket.RECURSION_DESIRED;
    const flags = rd | dnsPacket.RECURSION_AVAILABLE | (authoritative ? dnsPacket.AUTHORITATIVE_ANSWER : 0) | rcode;
    return dnsPacket.encode({ id: q.id, type: 'response', flags, questions: q.questions, answers, additionals });
  };

  const handle = async (query: Buffer): Promise<Buffer | undefined> => {
    let q: dnsPacket.DecodedPacket;
    try {
      q = dnsPacket.decode(query);
    } catch {
      return undefined; // not DNS: drop, as servers do
    }
    const question = q.questions?.[0];
    if (!question) return reply(q, RCODE_SERVFAIL);
    let r: ReturnType<typeof resolve>;
    try {
      r = resolve(o.view, question.name, question.type, o.domain);
    } catch (err) {
      // A malformed Service or Endpoints in the caches costs the queries that touch it, not the server.
      log.warn({ name: question.name, err: (err as Error).message }, 'dns lookup failed');
      return reply(q, RCODE_SERVFAIL);
    }
    switch (r.kind) {
      case 'answer':
        return reply(q, 0, r.answers.map(toRecord), r.additionals.map(toRecord));
      case 'nodata':
        return reply(q, 0);
      case 'nxdomain':
        return reply(q, RCODE_NXDOMAIN);
      case 'forward':
        for (const upstream of o.upstreams) {
          try {
            return await forwardUdp(query, upstream, o.forwardTimeoutMs);
          } catch (err) {
            log.debug({ upstream, name: question.name, err: (err as Error).message }, 'forward failed');
          }
        }
        return reply(q, RCODE_NXDOMAIN, [], [], false);
    }
  };

  const udp = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  udp.on('message', (msg, rinfo) => {
    handle(msg).then(
      (res) => {
        if (res) udp.send(res, rinfo.port, rinfo.address, (err) => err && log.debug({ err: err.message, to: rinfo.address }, 'dns reply not sent'));
      },
      (err: unknown) => log.warn({ err: (err as Error).message }, 'dns query failed'),
    );
  });
  await new Promise<void>((res, rej) => {
    udp.once('error', rej);
    udp.bind(o.port, o.bindAddress, () => res());
  });
  // After binding, a socket error (one peer's unreachable port, a reply too large) is logged, never fatal.
  udp.on('error', (err) => log.warn({ err: err.message }, 'dns udp socket error'));
  const port = udp.address().port;

  const tcp = net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    sock.setTimeout(10_000, () => sock.destroy());
    sock.on('error', () => undefined);
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        handle(msg).then(
          (res) => {
            if (!res || sock.destroyed) return;
            const head = Buffer.alloc(2);
            head.writeUInt16BE(res.length);
            sock.write(Buffer.concat([head, res]));
          },
          (err: unknown) => log.warn({ err: (err as Error).message }, 'dns query failed'),
        );
      }
    });
  });
  await new Promise<void>((res, rej) => {
    tcp.once('error', rej);
    tcp.listen(port, o.bindAddress, () => res());
  });
  tcp.on('error', (err) => log.warn({ err: err.message }, 'dns tcp server error'));

  return {
    port,
    handle,
    close: async () => {
      await new Promise<void>((res) => udp.close(() => res()));
      await new Promise<void>((res) => tcp.close(() => res()));
    },
  };
}
