/** kubelab scheduler entry: flags → config → startScheduler, until SIGTERM or lost leadership. */
import { runComponent, type ComponentSpec } from '../component-base/process.js';
import { compileSchedulerConfig, type SchedulerConfig } from './config.js';
import { SCHEDULER_FLAGS } from './flags.js';
import { startScheduler } from './index.js';

export const schedulerComponent: ComponentSpec<typeof SCHEDULER_FLAGS, SchedulerConfig> = {
  name: 'scheduler',
  description: 'kubelab scheduler: binds pods without a node to the best node',
  flags: SCHEDULER_FLAGS,
  compile: compileSchedulerConfig,
  async start(config, signal, logger) {
    const running = await startScheduler(config, signal, { logger });
    // Kubernetes components exit when they lose leadership; the supervisor restarts them as candidates.
    if ((await running.done) === 'lost-leadership') throw new Error('lost leadership of the scheduler lease');
  },
};

export function main(argv: string[]): Promise<void> {
  return runComponent(schedulerComponent, argv);
}
