/** ingress component entry: an nginx ingress controller (flags → config → startIngressController), until SIGTERM. */
import { runComponent, type ComponentSpec } from '../component-base/process.js';
import { compileIngressConfig, type IngressConfig } from './config.js';
import { startIngressController } from './controller.js';
import { INGRESS_FLAGS } from './flags.js';

export const ingressComponent: ComponentSpec<typeof INGRESS_FLAGS, IngressConfig> = {
  name: 'ingress',
  description: 'kubelab ingress controller: serves networking.k8s.io/v1 Ingresses of its IngressClass with a real nginx',
  flags: INGRESS_FLAGS,
  compile: compileIngressConfig,
  async start(config, signal, logger) {
    const running = await startIngressController(config, signal, { logger });
    // nginx is the data plane: without it this process serves nothing, so it ends (and is restarted).
    const stopped = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    await Promise.race([
      stopped,
      running.failed().then((err) => {
        if (!signal.aborted) throw new Error(`nginx exited: ${err.message}`);
      }),
    ]);
  },
};

export function main(argv: string[]): Promise<void> {
  return runComponent(ingressComponent, argv);
}
