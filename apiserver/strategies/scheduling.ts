/** scheduling.k8s.io: PriorityClass (Kubernetes' pkg/registry/scheduling/priorityclass). */
import { invalid } from '../../api/errors.js';
import type { Mutable, scheduling } from '../../api/types.js';
import { PRINTERS } from '../../api/tables.js';
import type { Strategy, StrategyContext } from '../strategy.js';
import { add, HIGHEST_USER_PRIORITY, SYSTEM_PRIORITY_CLASSES, type Causes } from '../validation.js';

/** The class marked globalDefault, as the watch cache has it. */
export function globalDefaultPriorityClass(ctx: StrategyContext): scheduling.PriorityClass | undefined {
  const classes = ctx.cachedList('priorityclasses') as unknown as scheduling.PriorityClass[];
  return classes.find((pc) => pc.globalDefault === true);
}

export const priorityclasses: Strategy = {
  validate(obj) {
    const c: Causes = [];
    const value = obj.value;
    if (value === undefined) add(c, 'value', 'Required value', 'FieldValueRequired');
    else if (typeof value !== 'number' || !Number.isInteger(value)) add(c, 'value', `Invalid value: ${JSON.stringify(value)}: must be an integer`, 'FieldValueTypeInvalid');
    else if (value > HIGHEST_USER_PRIORITY && !SYSTEM_PRIORITY_CLASSES.has(obj.metadata?.name ?? ''))
      add(c, 'value', `Forbidden: maximum allowed value of a user defined priority is ${HIGHEST_USER_PRIORITY}`, 'FieldValueForbidden');
    const name = obj.metadata?.name ?? '';
    if (name.startsWith('system-') && !SYSTEM_PRIORITY_CLASSES.has(name)) add(c, 'metadata.name', `Invalid value: "${name}": priority class names with 'system-' prefix are reserved`);
    const policy = obj.preemptionPolicy;
    if (policy !== undefined && policy !== 'PreemptLowerPriority' && policy !== 'Never')
      add(c, 'preemptionPolicy', `Unsupported value: ${JSON.stringify(policy)}: supported values: "Never", "PreemptLowerPriority"`, 'FieldValueNotSupported');
    return c;
  },
  // Only one class may be the global default (checked against the cache, as Kubernetes' admission does).
  admit(obj, ctx) {
    const pc = obj as Mutable<scheduling.PriorityClass>;
    pc.preemptionPolicy ??= 'PreemptLowerPriority';
    pc.globalDefault ??= false;
    const other = pc.globalDefault ? globalDefaultPriorityClass(ctx) : undefined;
    if (other)
      throw invalid(
        'PriorityClass',
        pc.metadata?.name ?? '',
        [{ field: 'globalDefault', message: `Invalid value: true: PriorityClass ${other.metadata?.name} is already marked as default. Only one default can exist`, reason: 'FieldValueInvalid' }],
        'scheduling.k8s.io',
      );
  },
  columns: PRINTERS.priorityclasses,
};
