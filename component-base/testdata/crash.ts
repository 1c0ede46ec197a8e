/** Fixture for process.test.ts: a component whose start leaves a rejection (or a throw) unhandled. */
import { createLogger } from '../log.js';
import { runUntilSignal } from '../process.js';

const mode = process.argv[2] ?? 'rejection';
await runUntilSignal(createLogger('crash-fixture', { pretty: false }), async () => {
  setTimeout(() => {
    if (mode === 'rejection') void Promise.reject(new Error('a floating rejection'));
    else throw new Error('a throw from a timer');
  }, 10);
  // Still running long after: only the crash handler can end this process early, with status 1.
  setTimeout(() => process.exit(0), 20_000);
});
