/**
 * The strategy of every served resource, keyed by its plural name in api/resources.ts. Each group
 * file exports one Strategy per resource, named after the resource; a resource with no rules of its own
 * still gets an entry, so the table and this registry are checked against each other (index.test.ts).
 */
import { resourceInfo, type ResourceInfo } from '../../api/resources.js';
import type { KObject } from '../../api/types.js';
import { resolveStrategy, type Causes, type ResolvedStrategy, type Strategy } from '../strategy.js';
import { validateMeta } from '../validation.js';
import * as apps from './apps.js';
import * as autoscaling from './autoscaling.js';
import * as batch from './batch.js';
import * as core from './core.js';
import * as coordination from './coordination.js';
import * as discovery from './discovery.js';
import * as networking from './networking.js';
import { pods } from './pods.js';
import * as policy from './policy.js';
import * as rbac from './rbac.js';
import * as scheduling from './scheduling.js';
import { services } from './services.js';
import * as storage from './storage.js';

/** The exported Strategy records of a group module (its helpers are functions or data, not strategies). */
function strategiesOf(mod: Record<string, unknown>): [string, Strategy][] {
  return Object.entries(mod).filter((e): e is [string, Strategy] => typeof e[1] === 'object' && e[1] !== null && !Array.isArray(e[1]));
}

/** Plural resource name → its strategy as written (before the generic defaults are filled in). */
export const STRATEGIES: ReadonlyMap<string, Strategy> = new Map([
  ['pods', pods],
  ['services', services],
  ...[core, apps, autoscaling, batch, coordination, discovery, networking, policy, rbac, scheduling, storage].flatMap((m) => strategiesOf(m)),
]);

const resolved = new Map<string, ResolvedStrategy>();

/** The strategy of a served resource, with every hook filled in. Throws for a resource without one. */
export function strategyFor(info: ResourceInfo): ResolvedStrategy {
  let s = resolved.get(info.resource);
  if (!s) {
    const written = STRATEGIES.get(info.resource);
    if (!written) throw new Error(`no strategy for resource "${info.resource}" (add one under apiserver/strategies/)`);
    s = resolveStrategy(info, written);
    resolved.set(info.resource, s);
  }
  return s;
}

function infoOf(resource: string): ResourceInfo {
  const info = resourceInfo(resource);
  if (!info) throw new Error(`unknown resource "${resource}"`);
  return info;
}

/** Applies the defaults of `resource` (plural name) to `obj`, in place. */
export function applyDefaults(resource: string, obj: KObject): void {
  strategyFor(infoOf(resource)).defaults(obj);
}

/** Metadata and kind-specific validation of the full object, as on every create and update. */
export function validateObject(info: ResourceInfo, obj: KObject): Causes {
  const s = strategyFor(info);
  const c: Causes = [];
  validateMeta(c, obj, s.validateName);
  c.push(...s.validate(obj));
  return c;
}
