/**
 * `kubelab load URL --rps N --duration D`: steady HTTP load (e.g. through the Ingress, to watch an HPA
 * scale), a progress line per second, then a summary: requests, status codes, latency percentiles.
 * Open loop: requests go out at the asked rate whatever the server does (cli/loadgen.ts).
 */
import type { Command } from 'commander';
import { DurationError, parseDuration } from '../../api/duration.js';
import { CliError } from '../context.js';
import { LoadOptionsError, formatCounts, runLoad, type LoadResult } from '../loadgen.js';

function num(flag: string, v: string | undefined, integer: boolean): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new CliError(`${flag}: "${v}" is not ${integer ? 'an integer' : 'a number'}`);
  return n;
}

function ms(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  try {
    return parseDuration(v);
  } catch (err) {
    if (err instanceof DurationError) throw new CliError(`${flag}: "${v}" is not a duration (e.g. 30s, 2m)`);
    throw err;
  }
}

const f1 = (n: number): string => n.toFixed(1);

export function summary(r: LoadResult, url: string): string {
  const secs = r.elapsedMs / 1000;
  return [
    `${url}: ${r.done} requests in ${f1(secs)} s (${f1(r.done / Math.max(secs, 0.001))}/s)`,
    `  status codes: ${formatCounts(r)}`,
    `  latency: p50 ${f1(r.p50)} ms, p90 ${f1(r.p90)} ms, p99 ${f1(r.p99)} ms, max ${f1(r.max)} ms`,
  ].join('\n');
}

export function register(program: Command): void {
  program
    .command('load')
    .description('Send steady HTTP GET load to a URL and summarize status codes and latency (e.g. through the Ingress at http://localhost:8081)')
    .argument('<url>', 'http:// or https:// URL')
    .option('--rps <n>', 'requests per second (0: as fast as --concurrency allows)', '10')
    .option('--duration <d>', 'how long to send (e.g. 30s, 2m; default 30s unless --requests is given)')
    .option('--requests <n>', 'stop after this many requests')
    .option('--concurrency <n>', 'most requests in flight', '64')
    .option('--host <name>', 'Host header (and TLS server name), e.g. an Ingress rule host')
    .option('--timeout <d>', 'per-request timeout', '10s')
    .option('--no-keepalive', 'a new connection per request')
    .option('-k, --insecure', 'accept any TLS certificate')
    .action(async (url: string, o: { rps: string; duration?: string; requests?: string; concurrency: string; host?: string; timeout: string; keepalive: boolean; insecure?: boolean }) => {
      const rps = num('--rps', o.rps, false) ?? 10;
      const tty = process.stderr.isTTY;
      try {
        const r = await runLoad({
          url,
          rps,
          durationMs: ms('--duration', o.duration ?? (o.requests === undefined ? '30s' : undefined)),
          requests: num('--requests', o.requests, true),
          concurrency: num('--concurrency', o.concurrency, true),
          host: o.host,
          timeoutMs: ms('--timeout', o.timeout),
          keepAlive: o.keepalive,
          insecure: o.insecure ?? false,
          onProgress: (p) => {
            const line = `[${f1(p.elapsedMs / 1000)}s] ${p.done}/${p.sent} done, ${formatCounts(p)}, p50 ${f1(p.p50)} ms, p99 ${f1(p.p99)} ms`;
            process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
          },
        });
        if (tty) process.stderr.write('\n');
        process.stdout.write(`${summary(r, url)}\n`);
      } catch (err) {
        if (err instanceof LoadOptionsError) throw new CliError(err.message);
        throw err;
      }
    });
}
