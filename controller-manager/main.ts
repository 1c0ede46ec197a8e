/** kubelab controller-manager entry: flags → config → startControllerManager, until SIGTERM. */
import { runComponent, type ComponentSpec } from '../component-base/process.js';
import type { ControllerManagerConfig } from './config.js';
import { CONTROLLER_MANAGER_FLAGS } from './flags.js';
import { compileControllerManagerConfig, startControllerManager } from './index.js';

export const controllerManagerComponent: ComponentSpec<typeof CONTROLLER_MANAGER_FLAGS, ControllerManagerConfig> = {
  name: 'controller-manager',
  description: 'kubelab controller-manager: workload, node lifecycle, endpoints, garbage collection and volume controllers',
  flags: CONTROLLER_MANAGER_FLAGS,
  compile: compileControllerManagerConfig,
  start: (config, signal, logger) => startControllerManager(config, signal, { logger }),
};

export function main(argv: string[]): Promise<void> {
  return runComponent(controllerManagerComponent, argv);
}
