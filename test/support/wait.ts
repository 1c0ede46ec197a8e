/** Tests wait with the same helper the lab uses (client/wait.ts). */
export { waitFor, WaitTimeoutError, type WaitOptions } from '../../client/wait.js';
