import type { Controller, ControllerContext, Enqueue } from './context.js';

export class PodGcController implements Controller {
  readonly name = 'podgc';
  constructor(private readonly ctx: ControllerContext) {}
  register(_q: Enqueue): void {}
  async reconcile(): Promise<void> {}
}
