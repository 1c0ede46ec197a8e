/** The kubelet's public surface. */
export { compileKubeletConfig, parseLabels, parseTaints, type KubeletConfig, type KubeletOptions } from './config.js';
export { KUBELET_FLAGS } from './flags.js';
export { startKubelet, type KubeletDeps, type RunningKubelet } from './start.js';
export { startHollowNodes, type HollowNodes, type HollowNodesOptions } from './hollow.js';
export { HOLLOW_ANNOTATIONS, HollowRuntime } from './runtime/hollow.js';
export { DockerRuntime } from './runtime/docker.js';
export { LABELS, SANDBOX, type Runtime, type RuntimeContainer } from './runtime/types.js';
export { exitStatus, EXEC_PROTOCOLS } from './server.js';
export { ConfigError, ImagePullError, ContainerStartError } from './errors.js';

