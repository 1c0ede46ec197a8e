import type { Controller, ControllerContext, Enqueue } from './context.js';

export class DaemonSetController implements Controller {
  readonly name = 'daemonset';
  constructor(private readonly ctx: ControllerContext) {}
  register(_q: Enqueue): void {}
  async reconcile(): Promise<void> {}
}
