/** The kubelab client library: everything a component needs to talk to the apiserver. */
export * from './api.js';
export * from './errors.js';
export * from './types.js';
export * from './resources.js';
export * from './selectors.js';
export * from './quantity.js';
export * from './clock.js';
export * from './informer.js';
export * from './workqueue.js';
export * from './runner.js';
export * from './leaderelection.js';
export * from './events.js';
export * from './retry.js';
export * from './log.js';
export * from './admin.js';
export * from './objects.js';
export * from './process.js';
