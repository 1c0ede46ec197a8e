/**
 * autoscaling: HorizontalPodAutoscaler (Kubernetes' pkg/registry/autoscaling/horizontalpodautoscaler and
 * pkg/apis/autoscaling/validation), stored as v2; v1 is served by conversion (rest/versions.ts).
 */
import type { KObject } from '../../api/types.js';
import { PRINTERS } from '../../api/tables.js';
import type { Strategy } from '../strategy.js';
import { add, type Causes } from '../validation.js';

type Obj = Record<string, unknown>;

interface HpaSpec {
  scaleTargetRef?: { kind?: string; name?: string };
  minReplicas?: number;
  maxReplicas?: number;
  metrics?: { type?: string; resource?: { name?: string; target?: { type?: string; averageUtilization?: number } } }[];
  behavior?: Record<'scaleUp' | 'scaleDown', { stabilizationWindowSeconds?: number; selectPolicy?: string; policies?: { type?: string; value?: number; periodSeconds?: number }[] } | undefined>;
}

/** SetDefaults_HorizontalPodAutoscaler: minReplicas 1, 80 % CPU when no metric is given, behaviour policies. */
function hpaDefaults(spec: Obj | undefined): void {
  if (!spec) return;
  spec.minReplicas ??= 1;
  if (!Array.isArray(spec.metrics) || spec.metrics.length === 0)
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
  const b = spec.behavior as { scaleUp?: Obj; scaleDown?: Obj } | undefined;
  if (!b) return;
  b.scaleUp ??= {};
  b.scaleUp.stabilizationWindowSeconds ??= 0;
  b.scaleUp.selectPolicy ??= 'Max';
  b.scaleUp.policies ??= [
    { type: 'Pods', value: 4, periodSeconds: 15 },
    { type: 'Percent', value: 100, periodSeconds: 15 },
  ];
  b.scaleDown ??= {};
  b.scaleDown.selectPolicy ??= 'Max';
  b.scaleDown.policies ??= [{ type: 'Percent', value: 100, periodSeconds: 15 }];
}

/** ValidateHorizontalPodAutoscalerSpec, for the fields the controller reads. */
function validateHpa(c: Causes, s: HpaSpec | undefined): void {
  if (!s?.scaleTargetRef?.kind) add(c, 'spec.scaleTargetRef.kind', 'Required value', 'FieldValueRequired');
  if (!s?.scaleTargetRef?.name) add(c, 'spec.scaleTargetRef.name', 'Required value', 'FieldValueRequired');
  const min = s?.minReplicas ?? 1;
  const max = s?.maxReplicas;
  if (min < 1) add(c, 'spec.minReplicas', `Invalid value: ${min}: must be greater than or equal to 1`);
  if (typeof max !== 'number' || max < 1) add(c, 'spec.maxReplicas', `Invalid value: ${String(max)}: must be greater than 0`);
  else if (max < min) add(c, 'spec.maxReplicas', `Invalid value: ${max}: must be greater than or equal to \`minReplicas\``);
  (s?.metrics ?? []).forEach((m, i) => {
    if (m.type === 'Resource') {
      if (!m.resource?.name) add(c, `spec.metrics[${i}].resource.name`, 'Required value', 'FieldValueRequired');
      const t = m.resource?.target;
      if (t?.type === 'Utilization' && !(typeof t.averageUtilization === 'number' && t.averageUtilization > 0))
        add(c, `spec.metrics[${i}].resource.target.averageUtilization`, 'Required value: must set either a target raw value or a target utilization', 'FieldValueRequired');
    }
  });
  for (const dir of ['scaleUp', 'scaleDown'] as const) {
    const r = s?.behavior?.[dir];
    if (!r) continue;
    const w = r.stabilizationWindowSeconds;
    if (w !== undefined && (w < 0 || w > 3600)) add(c, `spec.behavior.${dir}.stabilizationWindowSeconds`, `Invalid value: ${w}: must be less than or equal to 3600`);
    if (r.selectPolicy && !['Max', 'Min', 'Disabled'].includes(r.selectPolicy))
      add(c, `spec.behavior.${dir}.selectPolicy`, `Unsupported value: "${r.selectPolicy}": supported values: "Disabled", "Max", "Min"`, 'FieldValueNotSupported');
    (r.policies ?? []).forEach((p, i) => {
      const at = `spec.behavior.${dir}.policies[${i}]`;
      if (p.type !== 'Pods' && p.type !== 'Percent') add(c, `${at}.type`, `Unsupported value: "${String(p.type)}": supported values: "Percent", "Pods"`, 'FieldValueNotSupported');
      if (!(typeof p.value === 'number' && p.value > 0)) add(c, `${at}.value`, `Invalid value: ${String(p.value)}: must be greater than zero`);
      if (!(typeof p.periodSeconds === 'number' && p.periodSeconds > 0 && p.periodSeconds <= 1800))
        add(c, `${at}.periodSeconds`, `Invalid value: ${String(p.periodSeconds)}: must be greater than zero and less than or equal to 1800`);
    });
  }
}

export const horizontalpodautoscalers: Strategy = {
  defaults(obj: KObject) {
    hpaDefaults(obj.spec as Obj | undefined);
  },
  validate(obj: KObject) {
    const c: Causes = [];
    validateHpa(c, obj.spec as HpaSpec | undefined);
    return c;
  },
  columns: PRINTERS.horizontalpodautoscalers,
};
