import type { Controller, ControllerContext, Enqueue } from './context.js';

export class CronJobController implements Controller {
  readonly name = 'cronjob';
  constructor(private readonly ctx: ControllerContext) {}
  register(_q: Enqueue): void {}
  async reconcile(): Promise<void> {}
}
