/**
 * What the kubelet's streaming endpoints (exec/attach and port-forward) share below their protocols:
 * the byte transport (a WebSocket's binary messages or a raw upgraded connection), the loop that reads
 * channel frames from a WebSocket, and the loop that reads SPDY frames from a transport.
 */
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { FrameType, SpdyFramer, type SpdyFrame } from './spdy.js';
import { FrameError, type ChannelCodec, type ChannelFrame } from './wsstream.js';

/**
 * Where SPDY bytes come from and go to: a WebSocket's binary messages (kubectl ≥ 1.31) or the raw
 * upgraded connection (kubectl ≤ 1.30).
 */
export interface ByteTransport {
  send(b: Buffer): void;
  onData(cb: (b: Buffer) => void): void;
  onClose(cb: () => void): void;
  /** Ends the connection (`protocolError`: the peer broke the framing). */
  close(protocolError?: boolean): void;
}

export const toBuffer = (raw: Buffer | ArrayBuffer | Buffer[]): Buffer => (Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw));

export function wsTransport(ws: WebSocket): ByteTransport {
  return {
    send: (b) => {
      if (ws.readyState === ws.OPEN) ws.send(b);
    },
    onData: (cb) => ws.on('message', (raw: Buffer | ArrayBuffer | Buffer[]) => cb(toBuffer(raw))),
    onClose: (cb) => ws.on('close', cb),
    close: (protocolError) => ws.close(protocolError ? 1002 : 1000),
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

/**
 * Hands each channel frame the client sends on `ws` to `cb`. A message that does not decode is dropped
 * and the connection kept, as wsstream does (logged at debug with `fields`).
 */
export function onChannelFrames(ws: WebSocket, codec: ChannelCodec, log: Logger, fields: Record<string, unknown>, cb: (f: ChannelFrame) => void): void {
  ws.on('message', (raw: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    let f: ChannelFrame | undefined;
    try {
      f = codec.decode(toBuffer(raw), isBinary);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      log.debug({ err: err.message, ...fields }, 'stream frame dropped');
      return;
    }
    if (f) cb(f);
  });
}

/** A server-side SPDY session's part of the frame loop: streams opened, data, streams reset. */
export interface SpdyStreamHandlers {
  onSynStream(f: Extract<SpdyFrame, { kind: 'control' }>): void;
  onData(f: Extract<SpdyFrame, { kind: 'data' }>): void;
  onRstStream?(f: Extract<SpdyFrame, { kind: 'control' }>): void;
}

/**
 * One server-side SPDY connection (the kubelet's spdystream connection): reads frames from the
 * transport, answers PING, ends on the client's GOAWAY, and answers a framing error with
 * GOAWAY(PROTOCOL_ERROR) and the end of the connection; the rest goes to the session's handlers.
 */
export class SpdyConnection {
  readonly framer = new SpdyFramer();
  private lastStream = 0;
  private handlers?: SpdyStreamHandlers;

  constructor(
    private readonly t: ByteTransport,
    private readonly log: Logger,
    private readonly fields: Record<string, unknown> = {},
  ) {}

  /** Starts the loop: the transport's bytes go through the framer to `handlers`. */
  serve(handlers: SpdyStreamHandlers): void {
    this.handlers = handlers;
    this.t.onData((b) => this.receive(b));
  }

  send(frame: Buffer): void {
    this.t.send(frame);
  }

  close(protocolError?: boolean): void {
    this.t.close(protocolError);
  }

  private receive(b: Buffer): void {
    try {
      for (const f of this.framer.push(b)) this.onFrame(f);
    } catch (err) {
      this.log.warn({ err: (err as Error).message, ...this.fields }, 'spdy protocol error');
      this.t.send(this.framer.goAway(this.lastStream, 1));
      this.t.close(true);
    }
  }

  private onFrame(f: SpdyFrame): void {
    const h = this.handlers;
    if (!h) return;
    if (f.kind === 'data') return h.onData(f);
    switch (f.type) {
      case FrameType.synStream:
        this.lastStream = Math.max(this.lastStream, f.streamId);
        h.onSynStream(f);
        break;
      case FrameType.ping:
        this.t.send(this.framer.ping(f.payload.readUInt32BE(0)));
        break;
      case FrameType.rstStream:
        h.onRstStream?.(f);
        break;
      case FrameType.goAway:
        this.t.close();
        break;
      default:
        // SETTINGS, WINDOW_UPDATE, HEADERS: nothing to do without flow control.
        break;
    }
  }
}
