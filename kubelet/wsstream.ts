/**
 * Kubernetes' channel-multiplexed WebSocket protocols (k8s.io/apimachinery's wsstream), as the kubelet
 * serves them for exec, attach and port-forward:
 * - binary protocols (`v5.channel.k8s.io`, `v4.channel.k8s.io`, `channel.k8s.io`, and no subprotocol at
 *   all): every message is a binary frame `[channel byte][data]`;
 * - base64 protocols (`v4.base64.channel.k8s.io`, `base64.channel.k8s.io`): every message is a text
 *   frame `['0' + channel][base64 of data]`.
 * `v5.channel.k8s.io` adds the close signal: `[255][channel]` half-closes that channel (stdin).
 * Before v4 the error channel carries a plain message (nothing on success); from v4 on a `Status` object.
 */

/** Remote-command (exec/attach) subprotocols, newest first. */
export const REMOTE_COMMAND_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io', 'channel.k8s.io', 'base64.channel.k8s.io'] as const;
/** Port-forward subprotocols over the channel framing. */
export const PORT_FORWARD_CHANNEL_PROTOCOLS = ['v4.channel.k8s.io', 'v4.base64.channel.k8s.io'] as const;

export const Channel = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

/**
 * The subprotocol to answer for a client's offer, in the client's order of preference (as wsstream's
 * handshake walks it): the first offered one the server supports. No offer means the unnamed binary
 * protocol (''); an offer with nothing supported means no agreement (undefined).
 */
export function negotiateProtocol(offered: readonly string[], supported: readonly string[]): string | undefined {
  if (offered.length === 0) return '';
  return offered.find((p) => supported.includes(p));
}

/** The offered subprotocols of a `Sec-WebSocket-Protocol` header value, in order. */
export function parseProtocolHeader(value: string | string[] | undefined): string[] {
  const raw = Array.isArray(value) ? value.join(',') : (value ?? '');
  return raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

export const isBase64Protocol = (protocol: string): boolean => protocol.includes('base64.');
/** From v4 on, the error channel carries a `Status` object; before, a plain message. */
export const hasStatusObject = (protocol: string): boolean => protocol.startsWith('v4.') || protocol.startsWith('v5.');
export const hasCloseSignal = (protocol: string): boolean => protocol === 'v5.channel.k8s.io';

/** One decoded client message. */
export interface ChannelFrame {
  channel: number;
  data: Buffer;
}

/** Thrown when a client message does not follow the negotiated framing. */
export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

/** Encodes and decodes messages of one negotiated protocol. */
export interface ChannelCodec {
  readonly protocol: string;
  /** The message to send (a Buffer goes as a binary frame, a string as a text frame). */
  encode(channel: number, data: Buffer): Buffer | string;
  /** Decodes one received message; undefined for an empty message (wsstream skips those). */
  decode(message: Buffer, isBinary: boolean): ChannelFrame | undefined;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function channelCodec(protocol: string): ChannelCodec {
  if (isBase64Protocol(protocol)) {
    return {
      protocol,
      encode: (channel, data) => String.fromCharCode(48 + channel) + data.toString('base64'),
      decode: (message) => {
        if (message.length === 0) return undefined;
        const text = message.subarray(1).toString('latin1');
        // Buffer.from(…, 'base64') skips bad characters silently: refuse them instead of guessing.
        if (!BASE64.test(text) || text.length % 4 !== 0) throw new FrameError(`channel ${message[0] - 48}: data is not valid base64`);
        return { channel: message[0] - 48, data: Buffer.from(text, 'base64') };
      },
    };
  }
  return {
    protocol,
    encode: (channel, data) => {
      const frame = Buffer.allocUnsafe(data.length + 1);
      frame[0] = channel;
      data.copy(frame, 1);
      return frame;
    },
    decode: (message) => (message.length === 0 ? undefined : { channel: message[0], data: message.subarray(1) }),
  };
}

/** The v4+ error-channel Status for an exit code: Success, or Failure/NonZeroExitCode with the code as a cause. */
export function exitStatus(code: number, command: string[]): Record<string, unknown> {
  if (code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

/** A failed stream (the process could not start) as a v4+ Status. */
export function failureStatus(message: string, reason = 'InternalError', code = 500): Record<string, unknown> {
  return { metadata: {}, status: 'Failure', message, reason, code };
}

/**
 * What goes on the error channel for a Status in this protocol: the JSON Status (v4+), or before v4 the
 * plain message for a failure and nothing for success (undefined: send nothing).
 */
export function errorChannelPayload(protocol: string, status: Record<string, unknown>): Buffer | undefined {
  if (hasStatusObject(protocol)) return Buffer.from(JSON.stringify(status));
  if (status.status === 'Success') return undefined;
  return Buffer.from(typeof status.message === 'string' ? status.message : 'error executing command');
}

/** A port number as the two little-endian bytes port-forward sends first on each of its channels. */
export function portPrefix(port: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(port);
  return b;
}

/**
 * The ports of a WebSocket port-forward request: every `port` value (the kubelet's name; `ports`, the
 * apiserver's, is accepted too), each a comma-separated list of 1–65535. Throws naming the bad value.
 */
export function parseForwardPorts(q: URLSearchParams): number[] {
  const values = [...q.getAll('port'), ...q.getAll('ports')];
  if (values.length === 0) throw new FrameError('query parameter "port" is required');
  const ports: number[] = [];
  for (const v of values) {
    if (v === '') throw new FrameError('query parameter "port" cannot be empty');
    for (const p of v.split(',')) {
      if (!/^\d{1,5}$/.test(p) || Number(p) > 65535) throw new FrameError(`unable to parse "${p}" as a port: not an integer from 1 to 65535`);
      if (Number(p) < 1) throw new FrameError(`port "${p}" must be > 0`);
      ports.push(Number(p));
    }
  }
  return ports;
}
