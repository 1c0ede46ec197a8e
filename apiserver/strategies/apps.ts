/** apps: Deployments, ReplicaSets, StatefulSets, DaemonSets and ControllerRevisions. */
import type { KObject, apps } from '../../api/types.js';
import { templateDefaults } from '../../api/poddefaults.js';
import { PRINTERS } from '../../api/tables.js';
import type { Strategy } from '../strategy.js';
import { add, validateIntOrPercent, validateReplicas, validateSelectorAndTemplate, type Causes } from '../validation.js';

type Spec = Record<string, unknown> | undefined;

/** replicas, a selector that matches the template, and a template whose pods always restart. */
function validateReplicated(obj: KObject): Causes {
  const c: Causes = [];
  const spec = obj.spec as Spec;
  validateReplicas(c, 'spec.replicas', spec?.replicas);
  validateSelectorAndTemplate(c, spec as never, ['Always']);
  return c;
}

/** Workload status belongs to its controller: a create starts it empty. */
const emptyStatus = (obj: KObject): void => {
  obj.status = {};
};

export const deployments: Strategy = {
  defaults(obj) {
    const s = obj.spec as apps.DeploymentSpec | undefined;
    if (!s) return;
    s.replicas ??= 1;
    s.strategy ??= {};
    s.strategy.type ??= 'RollingUpdate';
    if (s.strategy.type === 'RollingUpdate') {
      s.strategy.rollingUpdate ??= {};
      s.strategy.rollingUpdate.maxSurge ??= '25%';
      s.strategy.rollingUpdate.maxUnavailable ??= '25%';
    }
    s.revisionHistoryLimit ??= 10;
    s.progressDeadlineSeconds ??= 600;
    s.minReadySeconds ??= 0;
    templateDefaults(s.template);
  },
  prepareForCreate: emptyStatus,
  validate(obj) {
    const c = validateReplicated(obj);
    const ru = ((obj.spec as Spec)?.strategy as { rollingUpdate?: Record<string, unknown>; type?: string } | undefined) ?? {};
    if (ru.type && !['RollingUpdate', 'Recreate'].includes(ru.type)) add(c, 'spec.strategy.type', `Unsupported value: "${ru.type}": supported values: "Recreate", "RollingUpdate"`, 'FieldValueNotSupported');
    validateIntOrPercent(c, 'spec.strategy.rollingUpdate.maxSurge', ru.rollingUpdate?.maxSurge);
    validateIntOrPercent(c, 'spec.strategy.rollingUpdate.maxUnavailable', ru.rollingUpdate?.maxUnavailable);
    if (ru.rollingUpdate && (ru.rollingUpdate.maxSurge === 0 || ru.rollingUpdate.maxSurge === '0%') && (ru.rollingUpdate.maxUnavailable === 0 || ru.rollingUpdate.maxUnavailable === '0%'))
      add(c, 'spec.strategy.rollingUpdate.maxUnavailable', 'Invalid value: 0: may not be 0 when `maxSurge` is 0');
    return c;
  },
  columns: PRINTERS.deployments,
};

export const replicasets: Strategy = {
  defaults(obj) {
    const s = obj.spec as apps.ReplicaSetSpec | undefined;
    if (!s) return;
    s.replicas ??= 1;
    s.minReadySeconds ??= 0;
    templateDefaults(s.template);
  },
  prepareForCreate: emptyStatus,
  validate: validateReplicated,
  columns: PRINTERS.replicasets,
};

export const statefulsets: Strategy = {
  defaults(obj) {
    const s = obj.spec as apps.StatefulSetSpec | undefined;
    if (!s) return;
    s.replicas ??= 1;
    s.podManagementPolicy ??= 'OrderedReady';
    s.updateStrategy ??= { type: 'RollingUpdate' };
    if (s.updateStrategy.type === 'RollingUpdate') s.updateStrategy.rollingUpdate ??= { partition: 0 };
    s.revisionHistoryLimit ??= 10;
    s.persistentVolumeClaimRetentionPolicy ??= { whenDeleted: 'Retain', whenScaled: 'Retain' };
    for (const t of s.volumeClaimTemplates ?? []) {
      t.apiVersion ??= 'v1';
      t.kind ??= 'PersistentVolumeClaim';
      if (t.spec) t.spec.volumeMode ??= 'Filesystem';
    }
    templateDefaults(s.template);
  },
  prepareForCreate: emptyStatus,
  validate(obj) {
    const c = validateReplicated(obj);
    const policy = (obj.spec as Spec)?.podManagementPolicy;
    if (policy && !['OrderedReady', 'Parallel'].includes(policy as string)) add(c, 'spec.podManagementPolicy', `Unsupported value: "${String(policy)}"`, 'FieldValueNotSupported');
    return c;
  },
  columns: PRINTERS.statefulsets,
};

export const daemonsets: Strategy = {
  defaults(obj) {
    const s = obj.spec as apps.DaemonSetSpec | undefined;
    if (!s) return;
    s.updateStrategy ??= { type: 'RollingUpdate' };
    if (s.updateStrategy.type === 'RollingUpdate') s.updateStrategy.rollingUpdate ??= { maxUnavailable: 1, maxSurge: 0 };
    s.revisionHistoryLimit ??= 10;
    templateDefaults(s.template);
  },
  prepareForCreate: emptyStatus,
  validate(obj) {
    const c: Causes = [];
    validateSelectorAndTemplate(c, obj.spec as never, ['Always']);
    return c;
  },
  columns: PRINTERS.daemonsets,
};

export const controllerrevisions: Strategy = { columns: PRINTERS.controllerrevisions };
