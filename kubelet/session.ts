/**
 * One remote-command connection seen as numbered channels (0 stdin, 1 stdout, 2 stderr, 3 error,
 * 4 resize, 255 close signal), whatever carries them: WebSocket messages (wsstream.ts) or SPDY streams
 * on a raw upgraded connection (kubectl ≤ 1.29: `Upgrade: SPDY/3.1`, `X-Stream-Protocol-Version`).
 */
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { ByteTransport } from './portforward.js';
import { FLAG_FIN, FrameType, SpdyFramer, type SpdyFrame } from './spdy.js';
import { Channel, FrameError, hasCloseSignal, type ChannelCodec, type ChannelFrame } from './wsstream.js';

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

const toBuffer = (raw: Buffer | ArrayBuffer | Buffer[]): Buffer => (Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw));

export function webSocketSession(ws: WebSocket, codec: ChannelCodec, log: Logger): ChannelSession {
  const closeSignal = hasCloseSignal(codec.protocol);
  return {
    protocol: codec.protocol,
    ready: Promise.resolve(),
    send: (channel, data) => {
      if (ws.readyState === ws.OPEN) ws.send(codec.encode(channel, data));
    },
    onFrame: (cb) =>
      ws.on('message', (raw: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
        let f: ChannelFrame | undefined;
        try {
          f = codec.decode(toBuffer(raw), isBinary);
        } catch (err) {
          // wsstream drops a frame it cannot decode and keeps the connection.
          if (!(err instanceof FrameError)) throw err;
          log.debug({ err: err.message, protocol: codec.protocol }, 'stream frame dropped');
          return;
        }
        // Before v5 there is no close signal: [255] is an unknown channel, ignored.
        if (f && (f.channel !== Channel.close || closeSignal)) cb(f);
      }),
    onClose: (cb) => ws.on('close', cb),
    close: () => ws.close(1000),
  };
}

/** A raw upgraded connection as a byte transport. */
export function socketTransport(socket: Duplex): ByteTransport {
  return {
    send: (b) => {
      if (!socket.destroyed && socket.writable) socket.write(b);
    },
    onData: (cb) => socket.on('data', cb),
    onClose: (cb) => socket.on('close', cb),
    close: (protocolError) => (protocolError ? socket.destroy() : socket.end()),
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
  const framer = new SpdyFramer();
  const streams = new Map<number, number>(); // channel → stream id
  const channels = new Map<number, number>(); // stream id → channel
  let frameCb: ((f: ChannelFrame) => void) | undefined;
  const held: ChannelFrame[] = [];
  let resizeText = '';
  const deliver = (f: ChannelFrame): void => (frameCb ? frameCb(f) : void held.push(f));
  let settle: { resolve: () => void; reject: (e: Error) => void } | undefined;
  const ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  // Awaited by the caller; this only keeps an early rejection from counting as unhandled.
  ready.catch(() => undefined);
  const timer = setTimeout(() => settle?.reject(new Error(`timed out waiting for the client's streams (have ${[...streams.keys()].join(',')})`)), timeoutMs);
  const checkReady = (): void => {
    if (expected.every((c) => streams.has(c))) {
      clearTimeout(timer);
      settle?.resolve();
    }
  };
  let lastStream = 0;
  const onFrame = (f: SpdyFrame): void => {
    if (f.kind === 'data') {
      const ch = channels.get(f.streamId);
      if (ch === Channel.resize) {
        // Resize events are JSON objects one per line, split across frames at random.
        resizeText += f.data.toString();
        let nl: number;
        while ((nl = resizeText.indexOf('\n')) >= 0) {
          const line = resizeText.slice(0, nl);
          resizeText = resizeText.slice(nl + 1);
          if (line.trim()) deliver({ channel: Channel.resize, data: Buffer.from(line) });
        }
      } else if (ch === Channel.stdin && f.data.length) deliver({ channel: ch, data: f.data });
      if (ch === Channel.stdin && f.flags & FLAG_FIN) deliver({ channel: Channel.close, data: Buffer.from([Channel.stdin]) });
      return;
    }
    switch (f.type) {
      case FrameType.synStream: {
        lastStream = Math.max(lastStream, f.streamId);
        const ch = STREAM_CHANNELS[f.headers?.streamtype ?? ''];
        if (ch === undefined) {
          t.send(framer.rstStream(f.streamId, 1));
          return;
        }
        t.send(framer.synReply(f.streamId));
        streams.set(ch, f.streamId);
        channels.set(f.streamId, ch);
        checkReady();
        break;
      }
      case FrameType.ping:
        t.send(framer.ping(f.payload.readUInt32BE(0)));
        break;
      case FrameType.goAway:
        t.close();
        break;
      default:
        break;
    }
  };
  t.onData((b) => {
    try {
      for (const f of framer.push(b)) onFrame(f);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'spdy protocol error');
      t.send(framer.goAway(lastStream, 1));
      t.close(true);
    }
  });
  t.onClose(() => {
    clearTimeout(timer);
    settle?.reject(new Error('the client closed the connection'));
  });
  return {
    protocol,
    ready,
    send: (channel, data) => {
      const id = streams.get(channel);
      if (id === undefined || data.length === 0) return;
      for (let off = 0; off < data.length; off += MAX_DATA) t.send(framer.data(id, data.subarray(off, off + MAX_DATA)));
    },
    onFrame: (cb) => {
      frameCb = cb;
      for (const f of held.splice(0)) cb(f);
    },
    onClose: (cb) => t.onClose(cb),
    close: () => {
      for (const ch of [Channel.stdout, Channel.stderr, Channel.error]) {
        const id = streams.get(ch);
        if (id !== undefined) t.send(framer.data(id, Buffer.alloc(0), true));
      }
      t.close();
    },
  };
}
