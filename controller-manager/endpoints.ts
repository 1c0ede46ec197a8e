import type { Controller, ControllerContext, Enqueue } from './context.js';

export class EndpointsController implements Controller {
  readonly name = 'endpoints';
  constructor(private readonly ctx: ControllerContext) {}
  register(_q: Enqueue): void {}
  async reconcile(): Promise<void> {}
}
