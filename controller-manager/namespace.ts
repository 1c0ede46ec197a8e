import type { Controller, ControllerContext, Enqueue } from './context.js';

export class NamespaceController implements Controller {
  readonly name = 'namespace';
  constructor(private readonly ctx: ControllerContext) {}
  register(_q: Enqueue): void {}
  async reconcile(): Promise<void> {}
}
