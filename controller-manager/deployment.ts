import type { Controller, ControllerContext, Enqueue } from './context.js';

export class DeploymentController implements Controller {
  readonly name = 'deployment';
  constructor(private readonly ctx: ControllerContext) {}
  register(_q: Enqueue): void {}
  async reconcile(): Promise<void> {}
}
