/**
 * The HTTP server and the bounded load client the Service benchmarks run inside pods (the component image has
 * node): `node -e SERVER` answers "ok" on :8080; `node -e LOADER <url> <n> <c>` sends n requests, c in flight,
 * a new connection each, and prints one JSON line {rps, p50, p99, fails}.
 */
export const SERVER = `require('http').createServer((q, s) => s.end('ok')).listen(8080)`;

// A bounded load client: n requests, c in flight, a new connection each; prints JSON stats.
export const LOADER = `
const http = require('http');
const [url, n, c] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const lat = []; let next = 0, fails = 0;
const one = () => new Promise((res) => { const t = process.hrtime.bigint();
  http.get(url, { agent: false }, (r) => { r.resume(); r.on('end', () => { lat.push(Number(process.hrtime.bigint() - t) / 1e6); res(); }); })
    .on('error', () => { fails++; res(); }); });
(async () => { const t0 = Date.now();
  await Promise.all(Array.from({ length: c }, async () => { while (next++ < n) await one(); }));
  const ms = Date.now() - t0; lat.sort((a, b) => a - b);
  const p = (q) => lat[Math.min(lat.length - 1, Math.ceil(q * lat.length) - 1)];
  console.log(JSON.stringify({ rps: (lat.length / ms) * 1000, p50: p(0.5), p99: p(0.99), fails }));
})();`;
