/** policy: PodDisruptionBudget. */
import { PRINTERS } from '../../api/tables.js';
import type { Strategy } from '../strategy.js';
import { add, validateIntOrPercent, validateLabels, type Causes } from '../validation.js';

export const poddisruptionbudgets: Strategy = {
  validate(obj) {
    const c: Causes = [];
    const s = obj.spec as { minAvailable?: unknown; maxUnavailable?: unknown; selector?: { matchLabels?: unknown } } | undefined;
    if (s?.minAvailable !== undefined && s.maxUnavailable !== undefined) add(c, 'spec', 'Invalid value: minAvailable and maxUnavailable cannot be both set');
    validateIntOrPercent(c, 'spec.minAvailable', s?.minAvailable);
    validateIntOrPercent(c, 'spec.maxUnavailable', s?.maxUnavailable);
    validateLabels(c, 'spec.selector.matchLabels', s?.selector?.matchLabels);
    return c;
  },
  columns: PRINTERS.poddisruptionbudgets,
};
