import type { Controller, ControllerContext, Enqueue } from './context.js';

export class GarbageCollector implements Controller {
  readonly name = 'garbagecollector';
  constructor(private readonly ctx: ControllerContext) {}
  register(_q: Enqueue): void {}
  async reconcile(): Promise<void> {}
}
