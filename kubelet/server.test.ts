/**
 * The kubelet's stream server at the frame level, one test per WebSocket protocol a client library
 * speaks. The runtime is a small fake whose "container" runs commands as local processes, so stdout,
 * stderr, stdin and exit codes are real; port-forward dials a real loopback TCP echo server.
 */
import { spawn } from 'node:child_process';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { nullLogger } from '../component-base/log.js';
import type { ExecProcess, RuntimeContainer } from './runtime/types.js';
import { SANDBOX } from './runtime/types.js';
import { FLAG_FIN, SpdyFramer, type SpdyFrame } from './spdy.js';
import { startKubeletServer, type KubeletServer, type KubeletServerOptions } from './server.js';

const base = { podUid: 'uid-1', namespace: 'ns', podName: 'p', attempt: 0, createdAt: 1, image: 'busybox', imageId: 'sha256:x' };
const containers: RuntimeContainer[] = [
  { ...base, id: 'sandbox', name: SANDBOX, state: 'running', ip: '127.0.0.1' },
  { ...base, id: 'c1', name: 'main', state: 'running' },
];

/** Terminal sizes the fake processes were started with or resized to. */
const sizes: { rows: number; cols: number }[] = [];

function localProcess(cmd: string[], opts: { stdin: boolean; size?: { rows: number; cols: number } }): Promise<ExecProcess> {
  if (opts.size) sizes.push(opts.size);
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  const stdin = new PassThrough();
  stdin.pipe(child.stdin);
  if (!opts.stdin) stdin.end();
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 137)));
  return Promise.resolve({
    stdout: child.stdout,
    stderr: child.stderr,
    ...(opts.stdin ? { stdin } : {}),
    closeStdin: () => stdin.end(),
    resize: (rows: number, cols: number) => {
      sizes.push({ rows, cols });
      return Promise.resolve();
    },
    wait: () => exited,
    kill: () => child.kill(),
  });
}

const runtime: KubeletServerOptions['runtime'] = {
  kind: 'hollow',
  list: () => Promise.resolve(containers),
  execInteractive: (_id, cmd, opts) => localProcess(cmd, opts),
  logs: () => Promise.reject(new Error('no logs in this test')),
  attach: () => localProcess(['sh', '-c', 'echo attached; echo err >&2'], { stdin: false }),
};

let server: KubeletServer;
let echo: Server;
let echoPort: number;

beforeAll(async () => {
  server = await startKubeletServer({ port: 0, host: '127.0.0.1', runtime, lookupPod: () => undefined, log: nullLogger() });
  echo = createServer((s) => s.pipe(s));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoPort = (echo.address() as AddressInfo).port;
});

afterAll(async () => {
  await server.close();
  await new Promise((r) => echo.close(r));
});

interface Frame {
  binary: boolean;
  raw: Buffer;
}

interface Session {
  ws: WebSocket;
  protocol: string;
  frames: Frame[];
  closed: Promise<void>;
}

/** Opens a stream and records every message the kubelet sends until it closes. */
function open(path: string, protocols: string[]): Promise<Session> {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}${path}`, protocols);
  const frames: Frame[] = [];
  ws.on('message', (raw: Buffer, binary: boolean) => frames.push({ binary, raw }));
  const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()));
  return new Promise((resolve, reject) => {
    ws.on('open', () => resolve({ ws, protocol: ws.protocol, frames, closed }));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => reject(new Error(`HTTP ${res.statusCode}: ${body}`)));
    });
    ws.on('error', reject);
  });
}

/** Binary frames joined per channel. */
function binaryChannels(frames: Frame[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const f of frames) {
    expect(f.binary).toBe(true);
    out.set(f.raw[0], (out.get(f.raw[0]) ?? '') + f.raw.subarray(1).toString());
  }
  return out;
}

/** Base64 text frames decoded and joined per channel. */
function base64Channels(frames: Frame[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const f of frames) {
    expect(f.binary).toBe(false);
    const text = f.raw.toString();
    const ch = text.charCodeAt(0) - 48;
    out.set(ch, (out.get(ch) ?? '') + Buffer.from(text.slice(1), 'base64').toString());
  }
  return out;
}

const exec = (cmd: string[], flags: string): string => `/exec/ns/p/main?${cmd.map((c) => `command=${encodeURIComponent(c)}`).join('&')}&${flags}`;
const FAILING = ['sh', '-c', 'echo hi; echo oops >&2; exit 3'];

describe('remote-command protocol negotiation', () => {
  it('picks the first protocol in the client order that the kubelet speaks', async () => {
    const a = await open(exec(['true'], 'stdout=1'), ['v4.channel.k8s.io', 'v5.channel.k8s.io']);
    const b = await open(exec(['true'], 'stdout=1'), ['v2.channel.k8s.io', 'v5.channel.k8s.io', 'v4.channel.k8s.io']);
    expect([a.protocol, b.protocol]).toEqual(['v4.channel.k8s.io', 'v5.channel.k8s.io']);
    await Promise.all([a.closed, b.closed]);
  });

  it('refuses an offer with no protocol it speaks, naming both lists', async () => {
    await expect(open(exec(['true'], 'stdout=1'), ['v9.channel.k8s.io'])).rejects.toThrow(/HTTP 400: requested protocol\(s\) are not supported: \[v9.channel.k8s.io\]; supports \[v5.channel.k8s.io/);
  });
});

describe('v4.channel.k8s.io (Python client, client-node, kubectl < 1.30 over WebSocket)', () => {
  it('separates stdout from stderr and reports a non-zero exit as a NonZeroExitCode Status', async () => {
    const s = await open(exec(FAILING, 'stdout=1&stderr=1'), ['v4.channel.k8s.io']);
    await s.closed;
    // The first frame is the empty "streams are up" frame on stdout.
    expect(s.frames[0].raw).toEqual(Buffer.from([1]));
    const ch = binaryChannels(s.frames);
    expect(ch.get(1)).toBe('hi\n');
    expect(ch.get(2)).toBe('oops\n');
    expect(JSON.parse(ch.get(3) ?? '')).toEqual({
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command [sh -c echo hi; echo oops >&2; exit 3], exit code 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
  });

  it('reports success as a Success Status and sends nothing on a channel that was not asked for', async () => {
    const s = await open(exec(['sh', '-c', 'echo out; echo err >&2'], 'stdout=1'), ['v4.channel.k8s.io']);
    await s.closed;
    const ch = binaryChannels(s.frames);
    expect(ch.get(1)).toBe('out\n');
    expect(ch.has(2)).toBe(false);
    expect(JSON.parse(ch.get(3) ?? '')).toEqual({ metadata: {}, status: 'Success' });
  });
});

describe('v5.channel.k8s.io (kubectl ≥ 1.30, client-node)', () => {
  it('closes the process stdin on the close signal [255, 0]', async () => {
    const s = await open(exec(['cat'], 'stdin=1&stdout=1'), ['v5.channel.k8s.io']);
    s.ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('piped')]));
    s.ws.send(Buffer.from([255, 0]));
    await s.closed;
    const ch = binaryChannels(s.frames);
    expect(ch.get(1)).toBe('piped');
    expect(JSON.parse(ch.get(3) ?? '').status).toBe('Success');
  });

  it('starts a TTY process with the first resize and passes later ones on (channel 4)', async () => {
    sizes.length = 0;
    const s = await open(exec(['cat'], 'stdin=1&stdout=1&tty=1'), ['v5.channel.k8s.io']);
    s.ws.send(Buffer.concat([Buffer.from([4]), Buffer.from(JSON.stringify({ Width: 100, Height: 30 }))]));
    s.ws.send(Buffer.concat([Buffer.from([4]), Buffer.from(JSON.stringify({ Width: 120, Height: 40 }))]));
    s.ws.send(Buffer.from([255, 0]));
    await s.closed;
    expect(sizes[0]).toEqual({ rows: 30, cols: 100 });
    expect(sizes.at(-1)).toEqual({ rows: 40, cols: 120 });
  });
});

describe('base64 protocols', () => {
  it('v4.base64.channel.k8s.io: text frames of channel digit + base64, Status on channel 3', async () => {
    const s = await open(exec(FAILING, 'stdout=1&stderr=1'), ['v4.base64.channel.k8s.io']);
    await s.closed;
    const ch = base64Channels(s.frames);
    expect(ch.get(1)).toBe('hi\n');
    expect(ch.get(2)).toBe('oops\n');
    expect(JSON.parse(ch.get(3) ?? '').details).toEqual({ causes: [{ reason: 'ExitCode', message: '3' }] });
  });

  it('base64.channel.k8s.io (pre-v4): stdin as base64 text, a plain message for a failure, nothing for success', async () => {
    const ok = await open(exec(['cat'], 'stdin=1&stdout=1'), ['base64.channel.k8s.io']);
    ok.ws.send('0' + Buffer.from('b64 in').toString('base64'));
    // Pre-v4 clients have no close signal: they end stdin by closing; wait for the echo first.
    await expect.poll(() => base64Channels(ok.frames).get(1)).toBe('b64 in');
    ok.ws.close();
    await ok.closed;
    expect(base64Channels(ok.frames).has(3)).toBe(false);

    const bad = await open(exec(FAILING, 'stdout=1'), ['base64.channel.k8s.io']);
    await bad.closed;
    expect(base64Channels(bad.frames).get(3)).toMatch(/^command terminated with non-zero exit code: .*exit code 3$/);
  });
});

describe('channel.k8s.io and no subprotocol (binary, pre-v4)', () => {
  it.each([[['channel.k8s.io']], [[]]])('offer %j: binary frames, plain failure message', async (offer) => {
    const s = await open(exec(FAILING, 'stdout=1&stderr=1'), offer);
    await s.closed;
    expect(s.protocol).toBe(offer[0] ?? '');
    const ch = binaryChannels(s.frames);
    expect(ch.get(1)).toBe('hi\n');
    expect(ch.get(2)).toBe('oops\n');
    expect(ch.get(3)).toMatch(/exit code 3$/);
  });
});

describe('attach', () => {
  it('carries the container output on stdout and stderr', async () => {
    const s = await open('/attach/ns/p/main?stdout=1&stderr=1', ['v4.channel.k8s.io']);
    await s.closed;
    const ch = binaryChannels(s.frames);
    expect(ch.get(1)).toBe('attached\n');
    expect(ch.get(2)).toBe('err\n');
  });
});

describe('port-forward over the channel framing', () => {
  it('v4.channel.k8s.io: port prefix on both channels, then bytes both ways', async () => {
    const s = await open(`/portForward/ns/p?port=${echoPort}`, ['v5.channel.k8s.io', 'v4.channel.k8s.io']);
    expect(s.protocol).toBe('v4.channel.k8s.io');
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16LE(echoPort);
    s.ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('ping')]));
    await expect.poll(() => s.frames.length).toBeGreaterThanOrEqual(3);
    expect(s.frames[0].raw).toEqual(Buffer.concat([Buffer.from([0]), prefix]));
    expect(s.frames[1].raw).toEqual(Buffer.concat([Buffer.from([1]), prefix]));
    await expect.poll(() => Buffer.concat(s.frames.slice(2).map((f) => f.raw.subarray(1))).toString()).toBe('ping');
    s.ws.close();
    await s.closed;
  });

  it('v4.base64.channel.k8s.io: an unreachable port gets its message on the error channel, then the stream closes', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const tmp = createServer();
      tmp.listen(0, '127.0.0.1', () => {
        const p = (tmp.address() as AddressInfo).port;
        tmp.close(() => resolve(p));
      });
    });
    const s = await open(`/portForward/ns/p?port=${closedPort}`, ['v4.base64.channel.k8s.io']);
    await s.closed;
    const err = s.frames.map((f) => f.raw.toString()).filter((t) => t.startsWith('1'));
    expect(Buffer.from(err[0].slice(1), 'base64').readUInt16LE(0)).toBe(closedPort);
    expect(Buffer.from(err[1].slice(1), 'base64').toString()).toMatch(new RegExp(`^error forwarding port ${closedPort} to pod p, uid uid-1: .*ECONNREFUSED`));
  });

  it('refuses a request without a port, naming the parameter', async () => {
    await expect(open('/portForward/ns/p', ['v4.channel.k8s.io'])).rejects.toThrow('HTTP 400: query parameter "port" is required');
  });
});

/**
 * Plays kubectl ≤ 1.29: an `Upgrade: SPDY/3.1` request, then one SPDY stream per channel. Returns the
 * response head and, once the kubelet ends the connection, the data it sent per stream type.
 */
async function spdyExec(path: string, versions: string[], streams: string[], input?: Buffer): Promise<{ head: string; data: Map<string, string>; fins: Set<string> }> {
  const sock = connect({ host: '127.0.0.1', port: server.port });
  await new Promise((r) => sock.once('connect', r));
  sock.write(`POST ${path} HTTP/1.1\r\nHost: kubelet\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n${versions.map((v) => `X-Stream-Protocol-Version: ${v}\r\n`).join('')}\r\n`);
  let raw = Buffer.alloc(0);
  let head: string | undefined;
  let refusal = '';
  const framer = new SpdyFramer();
  const frames: SpdyFrame[] = [];
  const ids = new Map<number, string>(streams.map((t, i) => [1 + 2 * i, t]));
  sock.on('data', (b: Buffer) => {
    if (head === undefined) {
      raw = Buffer.concat([raw, b]);
      const end = raw.indexOf('\r\n\r\n');
      if (end < 0) return;
      head = raw.subarray(0, end).toString();
      b = raw.subarray(end + 4);
      if (!head.startsWith('HTTP/1.1 101')) {
        refusal += b.toString();
        return;
      }
      for (const [id, type] of ids) sock.write(framer.synStream(id, { streamtype: type }));
      const stdin = [...ids].find(([, t]) => t === 'stdin')?.[0];
      if (stdin !== undefined && input) sock.write(Buffer.concat([framer.data(stdin, input), framer.data(stdin, Buffer.alloc(0), true)]));
    }
    frames.push(...framer.push(b));
  });
  await new Promise((r) => sock.once('close', r));
  const data = new Map<string, string>();
  const fins = new Set<string>();
  for (const f of frames) {
    if (f.kind !== 'data') continue;
    const type = ids.get(f.streamId) ?? '?';
    data.set(type, (data.get(type) ?? '') + f.data.toString());
    if (f.flags & FLAG_FIN) fins.add(type);
  }
  if (refusal) data.set('refusal', refusal);
  return { head: head ?? raw.toString(), data, fins };
}

describe('SPDY/3.1 remote command (kubectl 1.27-1.29)', () => {
  it('v4.channel.k8s.io: stdout and stderr on their streams, the Status on the error stream, each closed', async () => {
    const r = await spdyExec(exec(FAILING, 'stdout=1&stderr=1'), ['v4.channel.k8s.io', 'v3.channel.k8s.io'], ['error', 'stdout', 'stderr']);
    expect(r.head).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n[\s\S]*X-Stream-Protocol-Version: v4.channel.k8s.io/);
    expect(r.data.get('stdout')).toBe('hi\n');
    expect(r.data.get('stderr')).toBe('oops\n');
    expect(JSON.parse(r.data.get('error') ?? '')).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } });
    expect([...r.fins].sort()).toEqual(['error', 'stderr', 'stdout']);
  });

  it('stdin ends when the client half-closes its stdin stream', async () => {
    const r = await spdyExec(exec(['cat'], 'stdin=1&stdout=1'), ['v4.channel.k8s.io'], ['error', 'stdin', 'stdout'], Buffer.from('spdy in'));
    expect(r.data.get('stdout')).toBe('spdy in');
    expect(JSON.parse(r.data.get('error') ?? '').status).toBe('Success');
  });

  it('refuses a client whose protocol versions it does not speak, naming both lists', async () => {
    const r = await spdyExec(exec(['true'], 'stdout=1'), ['v9.channel.k8s.io'], []);
    expect(r.head).toMatch(/^HTTP\/1\.1 403/);
    expect(r.data.get('refusal')).toBe('unable to upgrade: unable to negotiate protocol: client supports [v9.channel.k8s.io], server supports [v4.channel.k8s.io v3.channel.k8s.io v2.channel.k8s.io channel.k8s.io]');
  });
});
