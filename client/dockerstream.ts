/** Docker's multiplexed (non-TTY) log and exec format → the payload bytes in order (8-byte frame headers dropped). */
export function demux(buf: Buffer): Buffer {
  const out: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const len = buf.readUInt32BE(i + 4);
    out.push(buf.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  return Buffer.concat(out);
}
