/** kubelab apiserver entry: flags → config → startApiserver, until SIGTERM. */
import { runComponent, type ComponentSpec } from '../component-base/process.js';
import { compileApiserverConfig, type ApiserverConfig } from './config.js';
import { APISERVER_FLAGS } from './flags.js';
import { startApiserver } from './server.js';

export const apiserverComponent: ComponentSpec<typeof APISERVER_FLAGS, ApiserverConfig> = {
  name: 'apiserver',
  description: 'kubelab apiserver: the object API on etcd (gRPC) and the Kubernetes REST API for kubectl',
  flags: APISERVER_FLAGS,
  compile: compileApiserverConfig,
  start: (config, signal, logger) => startApiserver(config, logger, signal),
};

export function main(argv: string[]): Promise<void> {
  return runComponent(apiserverComponent, argv);
}
