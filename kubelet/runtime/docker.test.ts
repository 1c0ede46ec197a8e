import { describe, expect, it } from 'vitest';
import { cpuShares } from './docker.js';

describe('cpuShares (the kubelet milliCPUToShares)', () => {
  it('gives 1024 per requested core, at least 2, and 2 without a request (BestEffort yields to everything else)', () => {
    expect(cpuShares(undefined)).toBe(2);
    expect(cpuShares('0')).toBe(2);
    expect(cpuShares('1m')).toBe(2);
    expect(cpuShares('250m')).toBe(256);
    expect(cpuShares('1')).toBe(1024);
    expect(cpuShares(2)).toBe(2048);
    expect(cpuShares('1.5')).toBe(1536);
  });
});
