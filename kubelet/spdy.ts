/**
 * The server side of SPDY/3 framing, as far as Kubernetes port-forwarding needs it.
 *
 * kubectl ≥ 1.31 tunnels SPDY through a WebSocket (`SPDY/3.1+portforward.k8s.io`): every binary
 * message carries raw SPDY bytes, in no particular relation to frame boundaries. Header blocks are
 * zlib streams with SPDY's preset dictionary, one stream per direction for the whole connection, each
 * block ending in a sync flush. Flow control is not implemented by Go's spdystream either.
 */
import { constants, inflateSync } from 'node:zlib';

/** SPDY/3 control frame types. */
export const FrameType = {
  synStream: 1,
  synReply: 2,
  rstStream: 3,
  settings: 4,
  ping: 6,
  goAway: 7,
  headers: 8,
  windowUpdate: 9,
} as const;

export const FLAG_FIN = 0x01;

export type SpdyFrame =
  | { kind: 'control'; type: number; flags: number; streamId: number; headers?: Record<string, string>; payload: Buffer }
  | { kind: 'data'; streamId: number; flags: number; data: Buffer };

// The SPDY/3 header-compression dictionary, byte for byte as the protocol draft (and Go's spdystream)
// define it: its adler32 (0xe3c6a7c2) is what every client's zlib header names.
const DICT_WORDS: string[] = [
  'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding', 'accept-language',
  'accept-ranges', 'age', 'allow', 'authorization', 'cache-control', 'connection', 'content-base', 'content-encoding',
  'content-language', 'content-length', 'content-location', 'content-md5', 'content-range', 'content-type', 'date', 'etag',
  'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since',
  'last-modified', 'location', 'max-forwards', 'pragma', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer',
  'retry-after', 'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via', 'warning',
  'www-authenticate', 'method', 'get', 'status', '200 OK', 'version', 'HTTP/1.1', 'url', 'public', 'set-cookie', 'keep-alive',
  'origin',
];
const DICT_TAIL =
  '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
  '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized' +
  '403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable' +
  'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT' +
  'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,' +
  'text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';

export const HEADER_DICTIONARY: Buffer = Buffer.concat([
  ...DICT_WORDS.map((w) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(w.length);
    return Buffer.concat([len, Buffer.from(w, 'latin1')]);
  }),
  Buffer.from(DICT_TAIL, 'latin1'),
]);

export function adler32(buf: Buffer): number {
  let a = 1;
  let b = 0;
  for (const byte of buf) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** Encodes a SPDY name/value block (uncompressed). */
export function encodeHeaderBlock(headers: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const entries = Object.entries(headers);
  parts.push(u32(entries.length));
  for (const [k, v] of entries) {
    const kb = Buffer.from(k.toLowerCase());
    const vb = Buffer.from(v);
    parts.push(u32(kb.length), kb, u32(vb.length), vb);
  }
  return Buffer.concat(parts);
}

/** Decodes a SPDY name/value block; multiple values (NUL-separated) keep only the first. */
export function decodeHeaderBlock(buf: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  if (buf.length < 4) throw new Error('spdy: truncated header block');
  const n = buf.readUInt32BE(0);
  let off = 4;
  for (let i = 0; i < n; i++) {
    if (off + 4 > buf.length) throw new Error('spdy: truncated header block');
    const kl = buf.readUInt32BE(off);
    const k = buf.subarray(off + 4, off + 4 + kl).toString();
    off += 4 + kl;
    if (off + 4 > buf.length) throw new Error('spdy: truncated header block');
    const vl = buf.readUInt32BE(off);
    const v = buf.subarray(off + 4, off + 4 + vl).toString();
    off += 4 + vl;
    out[k.toLowerCase()] = v.split('\0')[0];
  }
  return out;
}

/**
 * One SPDY connection's framing state: `push()` raw bytes in, get whole frames out; `synReply`,
 * `data`, `ping`, `goAway`, `rstStream` build frames to send.
 */
export class SpdyFramer {
  private pending: Buffer = Buffer.alloc(0);
  /** All compressed header bytes received so far: the peer's zlib stream spans the connection. */
  private inflateInput: Buffer = Buffer.alloc(0);
  private inflatedLength = 0;
  private deflateStarted = false;

  push(chunk: Buffer): SpdyFrame[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: SpdyFrame[] = [];
    while (this.pending.length >= 8) {
      const b = this.pending;
      const length = b.readUIntBE(5, 3);
      if (b.length < 8 + length) break;
      const flags = b[4];
      const body = b.subarray(8, 8 + length);
      this.pending = b.subarray(8 + length);
      if (b[0] & 0x80) {
        const type = b.readUInt16BE(2);
        frames.push(this.control(type, flags, body));
      } else {
        frames.push({ kind: 'data', streamId: b.readUInt32BE(0) & 0x7fffffff, flags, data: Buffer.from(body) });
      }
    }
    return frames;
  }

  private control(type: number, flags: number, body: Buffer): SpdyFrame {
    const payload = Buffer.from(body);
    const streamId = body.length >= 4 && type !== FrameType.settings && type !== FrameType.ping ? body.readUInt32BE(0) & 0x7fffffff : 0;
    let block: Buffer | undefined;
    if (type === FrameType.synStream) block = body.subarray(10);
    else if (type === FrameType.synReply || type === FrameType.headers) block = body.subarray(4);
    return { kind: 'control', type, flags, streamId, payload, ...(block ? { headers: decodeHeaderBlock(this.inflate(block)) } : {}) };
  }

  /**
   * Inflates one header block. Node has no synchronous streaming inflate, so the whole connection's
   * compressed header bytes are inflated again and the new tail is returned; blocks are tens of bytes.
   */
  private inflate(block: Buffer): Buffer {
    this.inflateInput = Buffer.concat([this.inflateInput, block]);
    const all = inflateSync(this.inflateInput, { dictionary: HEADER_DICTIONARY, finishFlush: constants.Z_SYNC_FLUSH });
    const out = all.subarray(this.inflatedLength);
    this.inflatedLength = all.length;
    return out;
  }

  /**
   * Compresses one header block as a stored (uncompressed) deflate block plus the sync-flush marker,
   * continuing this connection's zlib stream, which is exactly what the peer's inflater expects.
   */
  private deflate(raw: Buffer): Buffer {
    const parts: Buffer[] = [];
    if (!this.deflateStarted) {
      this.deflateStarted = true;
      const h = Buffer.alloc(6);
      h[0] = 0x78;
      h[1] = 0x20; // FDICT set; (0x78 << 8 | 0x20) % 31 == 0
      h.writeUInt32BE(adler32(HEADER_DICTIONARY), 2);
      parts.push(h);
    }
    const stored = Buffer.alloc(5);
    stored[0] = 0x00;
    stored.writeUInt16LE(raw.length, 1);
    stored.writeUInt16LE(~raw.length & 0xffff, 3);
    parts.push(stored, raw, Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]));
    return Buffer.concat(parts);
  }

  private controlFrame(type: number, flags: number, body: Buffer): Buffer {
    const h = Buffer.alloc(8);
    h[0] = 0x80;
    h[1] = 3;
    h.writeUInt16BE(type, 2);
    h[4] = flags;
    h.writeUIntBE(body.length, 5, 3);
    return Buffer.concat([h, body]);
  }

  /** A client's SYN_STREAM (the kubelet never opens streams; tests play the client with it). */
  synStream(streamId: number, headers: Record<string, string>, flags = 0): Buffer {
    const head = Buffer.alloc(10);
    head.writeUInt32BE(streamId & 0x7fffffff, 0);
    return this.controlFrame(FrameType.synStream, flags, Buffer.concat([head, this.deflate(encodeHeaderBlock(headers))]));
  }

  synReply(streamId: number, headers: Record<string, string> = {}, flags = 0): Buffer {
    const id = Buffer.alloc(4);
    id.writeUInt32BE(streamId & 0x7fffffff);
    return this.controlFrame(FrameType.synReply, flags, Buffer.concat([id, this.deflate(encodeHeaderBlock(headers))]));
  }

  rstStream(streamId: number, status: number): Buffer {
    const b = Buffer.alloc(8);
    b.writeUInt32BE(streamId & 0x7fffffff, 0);
    b.writeUInt32BE(status, 4);
    return this.controlFrame(FrameType.rstStream, 0, b);
  }

  ping(id: number): Buffer {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(id >>> 0);
    return this.controlFrame(FrameType.ping, 0, b);
  }

  goAway(lastStreamId: number, status = 0): Buffer {
    const b = Buffer.alloc(8);
    b.writeUInt32BE(lastStreamId & 0x7fffffff, 0);
    b.writeUInt32BE(status, 4);
    return this.controlFrame(FrameType.goAway, 0, b);
  }

  data(streamId: number, data: Buffer, fin = false): Buffer {
    const h = Buffer.alloc(8);
    h.writeUInt32BE(streamId & 0x7fffffff, 0);
    h[4] = fin ? FLAG_FIN : 0;
    h.writeUIntBE(data.length, 5, 3);
    return Buffer.concat([h, data]);
  }
}
