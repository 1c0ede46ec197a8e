import { describe, expect, it } from 'vitest';
import { healthEndpoint, healthcheckCommand } from './ready.js';
import { httpHealthcheck } from './spec.js';

describe('healthcheckCommand', () => {
  it('runs a CMD healthcheck as its argument list and a CMD-SHELL one through /bin/sh', () => {
    expect(healthcheckCommand(['CMD', 'bash', '-c', 'exit 0'])).toEqual(['bash', '-c', 'exit 0']);
    expect(healthcheckCommand(['CMD-SHELL', 'curl -f localhost'])).toEqual(['/bin/sh', '-c', 'curl -f localhost']);
  });

  it('has nothing to run for NONE, an empty test or no healthcheck at all', () => {
    expect(healthcheckCommand(['NONE'])).toBeUndefined();
    expect(healthcheckCommand(['CMD'])).toBeUndefined();
    expect(healthcheckCommand([])).toBeUndefined();
    expect(healthcheckCommand(undefined)).toBeUndefined();
  });
});

describe('healthEndpoint', () => {
  it("reads the port and path of the lab's own /healthz check, which lab up sends over the network", () => {
    expect(healthEndpoint(httpHealthcheck(10259)?.Test)).toEqual({ port: 10259, path: '/healthz' });
    expect(healthEndpoint(httpHealthcheck(8080)?.Test)).toEqual({ port: 8080, path: '/healthz' });
  });

  it("reads etcd's check too (it answers on loopback only: the GET over the network finds nothing and the check runs in the container)", () => {
    expect(healthEndpoint(['CMD', 'bash', '-c', "exec 3<>/dev/tcp/127.0.0.1/2381 && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 && head -c 12 <&3 | grep -q ' 200'"])).toEqual({ port: 2381, path: '/health' });
  });

  it('leaves any other check to run in the container: another address, a custom script, a port out of range', () => {
    expect(healthEndpoint(['CMD', 'bash', '-c', "exec 3<>/dev/tcp/10.0.0.1/2381 && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3"])).toBeUndefined();
    expect(healthEndpoint(['CMD-SHELL', 'curl -f localhost'])).toBeUndefined();
    expect(healthEndpoint(['CMD', 'bash', '-c', "exec 3<>/dev/tcp/127.0.0.1/70000 && printf 'GET /healthz HTTP/1.0'"])).toBeUndefined();
    expect(healthEndpoint(undefined)).toBeUndefined();
  });
});
