import { constants, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { adler32, FrameType, HEADER_DICTIONARY, SpdyFramer } from './spdy.js';

// A SYN_STREAM as Go's spdystream writes it (stream 1, headers {streamtype: stdout}).
const GO_SYN_STREAM = Buffer.from(
  '800300010000002b0000000100000000000078f9e3c6a7c262606060' + '04a7b392a2d4c45c6851c2565c92925f5a02000000ffff',
  'hex',
);

describe('spdy framing', () => {
  it('uses the SPDY/3 header dictionary that Go clients name in their zlib header', () => {
    expect(HEADER_DICTIONARY.length).toBe(1423);
    expect(adler32(HEADER_DICTIONARY)).toBe(0xe3c6a7c2);
  });

  it('decodes a SYN_STREAM written by Go, even when it arrives in pieces', () => {
    const f = new SpdyFramer();
    expect(f.push(GO_SYN_STREAM.subarray(0, 13))).toEqual([]);
    const frames = f.push(GO_SYN_STREAM.subarray(13));
    expect(frames).toHaveLength(1);
    const fr = frames[0];
    expect(fr.kind === 'control' && fr.type === FrameType.synStream && fr.streamId === 1 && fr.headers).toEqual({ streamtype: 'stdout' });
  });

  it('writes header blocks that continue one zlib stream across frames', () => {
    const f = new SpdyFramer();
    const a = f.synReply(1, { a: 'b' });
    const b = f.synReply(3, { port: '8080' });
    const zlibBytes = Buffer.concat([a.subarray(12), b.subarray(12)]);
    const out = inflateSync(zlibBytes, { dictionary: HEADER_DICTIONARY, finishFlush: constants.Z_SYNC_FLUSH });
    expect(out.toString('latin1')).toContain('port');
    // And our own reader reads them back (as a peer would).
    const r = new SpdyFramer();
    const frames = r.push(Buffer.concat([a, b, f.data(3, Buffer.from('hi'), true)]));
    expect(frames.map((x) => (x.kind === 'control' ? x.headers : x.data.toString()))).toEqual([{ a: 'b' }, { port: '8080' }, 'hi']);
  });
});
