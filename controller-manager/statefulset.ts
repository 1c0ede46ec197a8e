import type { Controller, ControllerContext, Enqueue } from './context.js';

export class StatefulSetController implements Controller {
  readonly name = 'statefulset';
  constructor(private readonly ctx: ControllerContext) {}
  register(_q: Enqueue): void {}
  async reconcile(): Promise<void> {}
}
