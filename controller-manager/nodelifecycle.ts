import type { Controller, ControllerContext, Enqueue } from './context.js';

export class NodeLifecycleController implements Controller {
  readonly name = 'nodelifecycle';
  constructor(private readonly ctx: ControllerContext) {}
  register(_q: Enqueue): void {}
  async reconcile(): Promise<void> {}
}
