import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatCounts, runLoad } from './loadgen.js';

let server: http.Server;
let url = '';
const hosts: string[] = [];

beforeAll(async () => {
  let n = 0;
  server = http.createServer((req, res) => {
    hosts.push(req.headers.host ?? '');
    n++;
    res.statusCode = n % 10 === 0 ? 503 : 200;
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('runLoad', () => {
  it('sends the asked number of requests at the asked rate and counts status codes', async () => {
    const progress: number[] = [];
    const r = await runLoad({ url, rps: 200, requests: 50, host: 'web.example', onProgress: (p) => progress.push(p.done), progressMs: 50 });
    expect(r.done).toBe(50);
    expect(r.statuses).toEqual({ 200: 45, 503: 5 });
    expect(formatCounts(r)).toBe('200: 45, 503: 5');
    // 50 requests at 200/s: the last is sent ~245 ms after the first.
    expect(r.elapsedMs).toBeGreaterThan(230);
    expect(r.p50).toBeGreaterThan(0);
    expect(r.p99).toBeGreaterThanOrEqual(r.p50);
    expect(hosts.every((h) => h === 'web.example')).toBe(true);
    expect(progress.length).toBeGreaterThan(0);
  });

  it('counts requests that get no answer by error code', async () => {
    const dead = http.createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const r = await runLoad({ url: `http://127.0.0.1:${port}/`, rps: 0, requests: 5 });
    expect(r.errors).toEqual({ ECONNREFUSED: 5 });
    expect(formatCounts(r)).toBe('no responses; ECONNREFUSED: 5');
  });

  it('refuses bad options, naming the option', async () => {
    await expect(runLoad({ url: 'nope', rps: 1, requests: 1 })).rejects.toThrow(/^URL: "nope" is not a URL/);
    await expect(runLoad({ url: 'ftp://x/', rps: 1, requests: 1 })).rejects.toThrow(/^URL: "ftp:\/\/x\/" must be http/);
    await expect(runLoad({ url, rps: -1, requests: 1 })).rejects.toThrow(/^--rps: must be a number/);
    await expect(runLoad({ url, rps: 1 })).rejects.toThrow(/^--duration or --requests/);
    await expect(runLoad({ url, rps: 1, requests: 1.5 })).rejects.toThrow(/^--requests: must be a positive integer/);
    await expect(runLoad({ url, rps: 1, requests: 1, concurrency: 0 })).rejects.toThrow(/^--concurrency:/);
    await expect(runLoad({ url, rps: 1, requests: 1, host: 'a b' })).rejects.toThrow(/^--host: "a b" is not a host name/);
  });
});
