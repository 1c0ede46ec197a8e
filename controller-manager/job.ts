import type { Controller, ControllerContext, Enqueue } from './context.js';

export class JobController implements Controller {
  readonly name = 'job';
  constructor(private readonly ctx: ControllerContext) {}
  register(_q: Enqueue): void {}
  async reconcile(): Promise<void> {}
}
