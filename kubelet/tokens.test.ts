import { describe, expect, it } from 'vitest';
import { requiresRefresh } from './tokens.js';

describe('requiresRefresh (token_manager.go)', () => {
  const h = 3600_000;
  it.each([
    ['fresh', 0, h, 0.5 * h, false],
    ['past 80 % of its life', 0, h, 0.81 * h, true],
    ['expired', 0, h, h, true],
    ['older than 24 h even with a long life', 0, 100 * h, 24 * h + 1, true],
  ])('%s', (_n, issued, expires, now, want) => expect(requiresRefresh(issued, expires, now)).toBe(want));
});
