/**
 * kubelab's public library (`import … from 'kubelab'`): the typed API client, its errors and object types,
 * the resource table, selectors and quantities, and the informer and work queue to build a controller on.
 * The test-cluster helper is `kubelab/testing`. Everything else (component plumbing, the apiserver's
 * strategies, the CLI) is internal and may change.
 */
export * from './api.js';
export * from './informer.js';
export * from './workqueue.js';
export * from '../api/errors.js';
export * from '../api/types.js';
export * from '../api/resources.js';
export * from '../api/selectors.js';
export * from '../api/quantity.js';
