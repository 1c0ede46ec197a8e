/**
 * One remote-command connection seen as numbered channels (0 stdin, 1 stdout, 2 stderr, 3 error,
 * 4 resize, 255 close signal), whatever carries them: WebSocket messages (wsstream.ts) or SPDY streams
 * on a raw upgraded connection (kubectl ≤ 1.29: `Upgrade: SPDY/3.1`, `X-Stream-Protocol-Version`).
 */
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { FLAG_FIN, type SpdyFrame } from './spdy.js';
import { onChannelFrames, SpdyConnection, type ByteTransport } from './transport.js';
import { Channel, hasCloseSignal, type ChannelCodec, type ChannelFrame } from './wsstream.js';

export interface ChannelSession {
  /** The negotiated protocol (decides the error channel's format). */
  readonly protocol: string;
  /** Resolves once the client's streams exist (SPDY: every expected stream opened); rejects if it gave up. */
  readonly ready: Promise<void>;
  send(channel: number, data: Buffer): void;
  /** The client's frames; a half-closed stdin arrives as the close signal `[255][0]`. */
  onFrame(cb: (f: ChannelFrame) => void): void;
  onClose(cb: () => void): void;
  /** Ends the session after everything sent so far. */
  close(): void;
}

export function webSocketSession(ws: WebSocket, codec: ChannelCodec, log: Logger): ChannelSession {
  const closeSignal = hasCloseSignal(codec.protocol);
  return {
    protocol: codec.protocol,
    ready: Promise.resolve(),
    send: (channel, data) => {
      if (ws.readyState === ws.OPEN) ws.send(codec.encode(channel, data));
    },
    onFrame: (cb) =>
      onChannelFrames(ws, codec, log, { protocol: codec.protocol }, (f) => {
        // Before v5 there is no close signal: [255] is an unknown channel, ignored.
        if (f.channel !== Channel.close || closeSignal) cb(f);
      }),
    onClose: (cb) => ws.on('close', cb),
    close: () => ws.close(1000),
  };
}

/** Remote-command protocols over SPDY (`X-Stream-Protocol-Version`), newest first; v5 is WebSocket-only. */
export const SPDY_REMOTE_COMMAND_PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'] as const;
export const SPDY_PORT_FORWARD_PROTOCOLS = ['portforward.k8s.io'] as const;

const STREAM_CHANNELS: Record<string, number> = { stdin: Channel.stdin, stdout: Channel.stdout, stderr: Channel.stderr, error: Channel.error, resize: Channel.resize };
const MAX_DATA = 32 * 1024;

/**
 * SPDY remote command: the client opens one stream per channel (header `streamType`); the server
 * answers each, waits for the ones the request needs (the error stream and each requested stdio
 * stream, as the kubelet does), and ends by closing its streams (FIN) and the connection.
 */
export function spdySession(t: ByteTransport, protocol: string, expected: readonly number[], log: Logger, timeoutMs = 30_000): ChannelSession {
  return new SpdyChannelSession(t, protocol, expected, log, timeoutMs);
}

class SpdyChannelSession implements ChannelSession {
  readonly ready: Promise<void>;
  private readonly conn: SpdyConnection;
  private readonly streams = new Map<number, number>(); // channel → stream id
  private readonly channels = new Map<number, number>(); // stream id → channel
  private frameCb?: (f: ChannelFrame) => void;
  private readonly held: ChannelFrame[] = [];
  private resizeText = '';
  private settle?: { resolve: () => void; reject: (e: Error) => void };
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly t: ByteTransport,
    readonly protocol: string,
    private readonly expected: readonly number[],
    log: Logger,
    timeoutMs: number,
  ) {
    this.conn = new SpdyConnection(t, log);
    this.ready = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
    // Awaited by the caller; this only keeps an early rejection from counting as unhandled.
    this.ready.catch(() => undefined);
    // A protocol timeout in wall time: the client either opens its streams or the session is given up.
    this.timer = setTimeout(() => this.settle?.reject(new Error(`timed out waiting for the client's streams (have ${[...this.streams.keys()].join(',')})`)), timeoutMs);
    this.conn.serve({ onSynStream: (f) => this.onSynStream(f), onData: (f) => this.onData(f) });
    t.onClose(() => {
      clearTimeout(this.timer);
      this.settle?.reject(new Error('the client closed the connection'));
    });
  }

  send(channel: number, data: Buffer): void {
    const id = this.streams.get(channel);
    if (id === undefined || data.length === 0) return;
    for (let off = 0; off < data.length; off += MAX_DATA) this.t.send(this.conn.framer.data(id, data.subarray(off, off + MAX_DATA)));
  }

  onFrame(cb: (f: ChannelFrame) => void): void {
    this.frameCb = cb;
    for (const f of this.held.splice(0)) cb(f);
  }

  onClose(cb: () => void): void {
    this.t.onClose(cb);
  }

  close(): void {
    for (const ch of [Channel.stdout, Channel.stderr, Channel.error]) {
      const id = this.streams.get(ch);
      if (id !== undefined) this.t.send(this.conn.framer.data(id, Buffer.alloc(0), true));
    }
    this.t.close();
  }

  private deliver(f: ChannelFrame): void {
    if (this.frameCb) this.frameCb(f);
    else this.held.push(f);
  }

  private onSynStream(f: Extract<SpdyFrame, { kind: 'control' }>): void {
    const ch = STREAM_CHANNELS[f.headers?.streamtype ?? ''];
    if (ch === undefined) {
      this.t.send(this.conn.framer.rstStream(f.streamId, 1));
      return;
    }
    this.t.send(this.conn.framer.synReply(f.streamId));
    this.streams.set(ch, f.streamId);
    this.channels.set(f.streamId, ch);
    if (this.expected.every((c) => this.streams.has(c))) {
      clearTimeout(this.timer);
      this.settle?.resolve();
    }
  }

  private onData(f: Extract<SpdyFrame, { kind: 'data' }>): void {
    const ch = this.channels.get(f.streamId);
    if (ch === Channel.resize) {
      // Resize events are JSON objects one per line, split across frames at random.
      this.resizeText += f.data.toString();
      let nl: number;
      while ((nl = this.resizeText.indexOf('\n')) >= 0) {
        const line = this.resizeText.slice(0, nl);
        this.resizeText = this.resizeText.slice(nl + 1);
        if (line.trim()) this.deliver({ channel: Channel.resize, data: Buffer.from(line) });
      }
    } else if (ch === Channel.stdin && f.data.length) this.deliver({ channel: ch, data: f.data });
    if (ch === Channel.stdin && f.flags & FLAG_FIN) this.deliver({ channel: Channel.close, data: Buffer.from([Channel.stdin]) });
  }
}
