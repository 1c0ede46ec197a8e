import type { Controller, ControllerContext, Enqueue } from './context.js';

export class VolumeBinderController implements Controller {
  readonly name = 'volume';
  constructor(private readonly ctx: ControllerContext) {}
  register(_q: Enqueue): void {}
  async reconcile(): Promise<void> {}
}
