import { describe, expect, it } from 'vitest';
import { healthcheckCommand } from './ready.js';

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
