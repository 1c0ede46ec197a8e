import { describe, expect, it } from 'vitest';
import { ipToNumber, ipToString, parseCidr, sortByIp } from './cidr.js';

describe('cidr', () => {
  it('parses ranges to their first address and size', () => {
    expect(parseCidr('10.96.0.0/12')).toEqual({ base: ipToNumber('10.96.0.0'), size: 2 ** 20 });
    expect(parseCidr('10.213.128.7/17')).toEqual({ base: ipToNumber('10.213.128.0'), size: 2 ** 15 });
    expect(parseCidr('0.0.0.0/0')).toEqual({ base: 0, size: 2 ** 32 });
    expect(ipToString(parseCidr('192.168.1.1/32').base)).toBe('192.168.1.1');
  });
  it('refuses what is not a CIDR, naming it', () => {
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '256.0.0.0/8', '10.0.0/8', `${'1'.repeat(5000)}.0.0.0/8`, '']) expect(() => parseCidr(bad), bad).toThrow(`invalid CIDR "${bad}"`);
    for (const bad of ['1.2.3', '1.2.3.256', '::1', 'a.b.c.d', '1.2.3.4 ']) expect(ipToNumber(bad), bad).toBeUndefined();
  });
  it('orders addresses as numbers, IPv4 first, the rest (IPv6, garbage) after them in numeric collation', () => {
    const ips = ['10.0.0.10', 'fd00::2', '10.0.0.9', '9.255.255.255', 'fd00::10', '10.0.1.0', 'x'];
    expect(sortByIp(ips, (s) => s)).toEqual(['9.255.255.255', '10.0.0.9', '10.0.0.10', '10.0.1.0', 'fd00::2', 'fd00::10', 'x']);
    expect(sortByIp([], (s: string) => s)).toEqual([]);
  });
});
