/** Every CLI command module registers itself on the root program here. */
import type { Command } from 'commander';
import { register as apiResources } from './api-resources.js';
import { register as apply } from './apply.js';
import { register as audit } from './audit.js';
import { register as controlPlane } from './controlplane.js';
import { register as dashboard } from './dashboard.js';
import { register as del } from './delete.js';
import { register as describe } from './describe.js';
import { register as expose } from './expose.js';
import { register as get } from './get.js';
import { register as exec } from './exec.js';
import { register as lab } from './lab.js';
import { register as load } from './load.js';
import { register as logs } from './logs.js';
import { register as node } from './node.js';
import { register as rollout } from './rollout.js';
import { register as scale } from './scale.js';

export type Register = (program: Command) => void;

const modules: Register[] = [get, describe, apply, del, apiResources, rollout, scale, expose, lab, node, controlPlane, dashboard, logs, exec, load, audit];

export function registerAll(program: Command): void {
  for (const register of modules) register(program);
}
