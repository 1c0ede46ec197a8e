import { describe, expect, it } from 'vitest';
import { fastestMs } from '../test/support/timing.js';
import { cpuMillis, isQuantity, parseQuantity, QuantityError, quantityValue } from './quantity.js';

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

describe('quantities from untrusted text', () => {
  it('accepts the Kubernetes grammar: signs, fractions, exponents, every suffix', () => {
    expect(parseQuantity('+1.')).toBe(1);
    expect(parseQuantity('.5')).toBe(0.5);
    expect(parseQuantity('1e-3')).toBe(0.001);
    expect(parseQuantity('2E+2')).toBe(200);
    expect(parseQuantity('1E')).toBe(1e18);
    expect(parseQuantity('1Ki')).toBe(1024);
    expect(parseQuantity(' 3 ')).toBe(3);
  });

  it.each(['', '.', '-', '1e', '1e+', '1Kii', '1 Ki', '1.2.3', 'toString', '1constructor', '1.5e3x', '--1'])('rejects %j', (q) => {
    expect(() => parseQuantity(q)).toThrow(QuantityError);
  });

  it.each([20_000, 1_000_000])('answers a %i-digit quantity with an error in well under 100 ms', (n) => {
    const text = `${'1'.repeat(n)}x`;
    const ms = fastestMs(() => {
      expect(() => parseQuantity(text)).toThrow(/no more than 256 characters/);
      expect(isQuantity(text)).toBe(false);
      expect(isQuantity('1'.repeat(n))).toBe(false);
    });
    expect(ms).toBeLessThan(100);
  });

  it('keeps error messages short for huge inputs', () => {
    let message = '';
    try {
      parseQuantity('9'.repeat(100_000));
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.length).toBeLessThan(300);
    expect(message).toContain('100000 characters');
  });
});
