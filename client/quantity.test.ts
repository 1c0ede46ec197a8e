import { describe, expect, it } from 'vitest';
import { cpuMillis, parseQuantity, quantityValue } from './quantity.js';

describe('quantities', () => {
  it('parses cpu in millicores', () => {
    expect(cpuMillis('100m')).toBe(100);
    expect(cpuMillis('1.5')).toBe(1500);
    expect(cpuMillis(2)).toBe(2000);
  });
  it('parses binary and decimal suffixes', () => {
    expect(quantityValue('128Mi')).toBe(128 * 2 ** 20);
    expect(quantityValue('1G')).toBe(1e9);
    expect(quantityValue('1e3')).toBe(1000);
  });
  it('names the bad text', () => {
    expect(() => parseQuantity('12 apples')).toThrow(/12 apples/);
  });
});
