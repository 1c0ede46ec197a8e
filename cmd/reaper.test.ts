import { describe, expect, it } from 'vitest';
import { main } from './reaper.js';

describe('reaper component flags', () => {
  it('refuses a cluster name that is no label value of kubelab, naming the flag', async () => {
    await expect(main(['--cluster', 'Bad Name'])).rejects.toThrow('--cluster: "Bad Name" must be lower-case letters, digits and \'-\'');
    await expect(main(['--cluster', ''])).rejects.toThrow('--cluster');
  });

  it('refuses an unknown flag (commander) instead of idling', async () => {
    await expect(main(['--clutser', 'kubelab'])).rejects.toThrow(/unknown option '--clutser'/);
  });
});
