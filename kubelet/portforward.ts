/**
 * Port-forwarding for one client connection, in either of the kubelet's two WebSocket forms:
 * - the channel framing (`v4.channel.k8s.io`, `v4.base64.channel.k8s.io`, or no subprotocol; what the
 *   client libraries speak): one TCP connection per requested port, carried on channel 2i (data) and
 *   2i+1 (error), each of which first carries the port as two little-endian bytes;
 * - SPDY tunnelled in the WebSocket (`SPDY/3.1+portforward.k8s.io`, what kubectl ≥ 1.31 speaks). Per forwarded TCP connection the client
 * opens two streams sharing a `requestID`: an error stream (the kubelet writes a message there if the
 * port cannot be reached) and a data stream (the bytes). As the real kubelet does, both are closed
 * once the pod side ends, with an empty error stream meaning success.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { FLAG_FIN, type SpdyFrame } from './spdy.js';
import { onChannelFrames, SpdyConnection, type ByteTransport } from './transport.js';
import { portPrefix, type ChannelCodec } from './wsstream.js';

export const PORTFORWARD_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';

/** Largest DATA frame the kubelet sends (spdystream reads any size; keep WebSocket messages modest). */
const MAX_DATA = 32 * 1024;

export interface PortForwardOptions {
  /** Opens a TCP connection to the pod's port (rejects with a message for the error stream). */
  dial: (port: number) => Promise<Socket>;
  /** For error messages: the pod as `name` and its uid. */
  podName: string;
  podUid: string;
  log: Logger;
}

interface Pair {
  requestId: string;
  port: number;
  errorStream?: number;
  dataStream?: number;
  socket?: Socket;
  /** Client bytes that arrived before the pod connection was up. */
  early: Buffer[];
  clientDone: boolean;
  started: boolean;
  finished: boolean;
}

/**
 * The channel-framed port-forward: every port is dialled at once; a port that cannot be reached gets
 * its message on its error channel. As the kubelet does, the WebSocket closes once every port's
 * connection has ended (the framing has no way to end one port's stream on its own).
 */
export function serveChannelPortForward(ws: WebSocket, codec: ChannelCodec, ports: number[], o: PortForwardOptions): void {
  const send = (channel: number, data: Buffer): void => {
    if (ws.readyState === ws.OPEN) ws.send(codec.encode(channel, data));
  };
  const sockets: (Socket | undefined)[] = ports.map(() => undefined);
  // Client bytes for a port whose connection is not up yet.
  const early: Buffer[][] = ports.map(() => []);
  let open = ports.length;
  let closed = false;
  const done = (): void => {
    open -= 1;
    if (open === 0) ws.close(1000);
  };
  ports.forEach((port, i) => {
    send(2 * i, portPrefix(port));
    send(2 * i + 1, portPrefix(port));
  });
  ports.forEach((port, i) => {
    const fail = (err: Error): void => send(2 * i + 1, Buffer.from(`error forwarding port ${port} to pod ${o.podName}, uid ${o.podUid}: ${err.message}`));
    o.dial(port).then(
      (socket) => {
        if (closed) {
          socket.destroy();
          return;
        }
        sockets[i] = socket;
        for (const b of early[i].splice(0)) socket.write(b);
        socket.on('data', (b: Buffer) => {
          for (let off = 0; off < b.length; off += MAX_DATA) send(2 * i, b.subarray(off, off + MAX_DATA));
        });
        socket.on('error', fail);
        socket.on('close', done);
      },
      (err: unknown) => {
        fail(err as Error);
        done();
      },
    );
  });
  onChannelFrames(ws, codec, o.log, { pod: o.podName }, (f) => {
    // Only data channels (even) are readable; the client never writes to an error channel.
    if (f.channel % 2 !== 0 || f.channel / 2 >= ports.length || f.data.length === 0) return;
    const i = f.channel / 2;
    const socket = sockets[i];
    if (socket) socket.write(f.data);
    else early[i].push(Buffer.from(f.data));
  });
  ws.on('close', () => {
    closed = true;
    for (const s of sockets) s?.destroy();
  });
}

/** SPDY port-forward over one connection: pairs each request's error and data streams and dials the pod's port. */
export function servePortForward(t: ByteTransport, o: PortForwardOptions): void {
  const session = new SpdyPortForward(new SpdyConnection(t, o.log, { pod: o.podName }), o);
  t.onClose(() => session.close());
}

class SpdyPortForward {
  private readonly framer: SpdyConnection['framer'];
  private readonly pairs = new Map<string, Pair>();
  private readonly byStream = new Map<number, Pair>();

  constructor(
    private readonly conn: SpdyConnection,
    private readonly o: PortForwardOptions,
  ) {
    this.framer = conn.framer;
    conn.serve({
      onSynStream: (f) => this.onSynStream(f),
      onData: (f) => this.onData(f),
      onRstStream: (f) => {
        const p = this.byStream.get(f.streamId);
        if (p) this.finish(p);
      },
    });
  }

  /** The connection ended: every pod connection goes with it. */
  close(): void {
    for (const p of this.pairs.values()) {
      p.finished = true;
      p.socket?.destroy();
    }
    this.pairs.clear();
  }

  private send(frame: Buffer): void {
    this.conn.send(frame);
  }

  private finish(p: Pair, message?: string): void {
    if (p.finished) return;
    p.finished = true;
    if (p.errorStream !== undefined) this.send(this.framer.data(p.errorStream, message ? Buffer.from(message) : Buffer.alloc(0), true));
    if (p.dataStream !== undefined) this.send(this.framer.data(p.dataStream, Buffer.alloc(0), true));
    p.socket?.destroy();
    this.pairs.delete(p.requestId);
  }

  /** Dials the pod once both streams of the pair are open. */
  private start(p: Pair): void {
    if (p.started || p.errorStream === undefined || p.dataStream === undefined) return;
    p.started = true;
    const dataStream = p.dataStream;
    const failed = (err: Error): string => `error forwarding port ${p.port} to pod ${this.o.podName}, uid ${this.o.podUid}: ${err.message}`;
    this.o.dial(p.port).then(
      (socket) => {
        if (p.finished) {
          socket.destroy();
          return;
        }
        p.socket = socket;
        for (const b of p.early.splice(0)) socket.write(b);
        if (p.clientDone) socket.end();
        socket.on('data', (b: Buffer) => {
          for (let i = 0; i < b.length; i += MAX_DATA) this.send(this.framer.data(dataStream, b.subarray(i, i + MAX_DATA)));
        });
        socket.on('error', (err) => this.finish(p, failed(err)));
        socket.on('close', () => this.finish(p));
      },
      (err: unknown) => this.finish(p, failed(err as Error)),
    );
  }

  private onSynStream(f: Extract<SpdyFrame, { kind: 'control' }>): void {
    const h = f.headers ?? {};
    const port = Number(h.port);
    const type = h.streamtype;
    // Old clients send no requestID: pair streams by arrival order, as the kubelet does.
    const requestId = h.requestid ?? `stream-${type === 'data' ? f.streamId - 2 : f.streamId}`;
    if ((type !== 'error' && type !== 'data') || !Number.isInteger(port) || port <= 0 || port > 65535) {
      this.send(this.framer.rstStream(f.streamId, 1));
      return;
    }
    this.send(this.framer.synReply(f.streamId));
    let p = this.pairs.get(requestId);
    if (!p) {
      p = { requestId, port, early: [], clientDone: false, started: false, finished: false };
      this.pairs.set(requestId, p);
    }
    if (type === 'error') p.errorStream = f.streamId;
    else p.dataStream = f.streamId;
    this.byStream.set(f.streamId, p);
    this.start(p);
  }

  private onData(f: Extract<SpdyFrame, { kind: 'data' }>): void {
    const p = this.byStream.get(f.streamId);
    if (!p || f.streamId !== p.dataStream) return; // the client never writes to the error stream
    if (f.data.length) {
      if (p.socket) p.socket.write(f.data);
      else p.early.push(f.data);
    }
    if (f.flags & FLAG_FIN) {
      p.clientDone = true;
      p.socket?.end();
    }
  }
}
