import type { Controller, ControllerContext, Enqueue } from './context.js';

export class TaintEvictionController implements Controller {
  readonly name = 'tainteviction';
  constructor(private readonly ctx: ControllerContext) {}
  register(_q: Enqueue): void {}
  async reconcile(): Promise<void> {}
}
