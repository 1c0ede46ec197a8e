/** kubelab kubelet entry: flags → config → startKubelet, until SIGTERM. */
import { runComponent, type ComponentSpec } from '../component-base/process.js';
import { compileKubeletConfig, type KubeletConfig } from './config.js';
import { KUBELET_FLAGS } from './flags.js';
import { startKubelet } from './start.js';

export const kubeletComponent: ComponentSpec<typeof KUBELET_FLAGS, KubeletConfig> = {
  name: 'kubelet',
  description: 'kubelab kubelet: runs the pods bound to this node as Docker containers',
  flags: KUBELET_FLAGS,
  compile: compileKubeletConfig,
  start: (config, signal, logger) => startKubelet(config, signal, { logger }),
};

export function main(argv: string[]): Promise<void> {
  return runComponent(kubeletComponent, argv);
}
