/** batch: Jobs and CronJobs. */
import type { KObject, batch, core } from '../../api/types.js';
import { templateDefaults } from '../../api/poddefaults.js';
import { scheduleError, timeZoneError } from '../../api/cron.js';
import { PRINTERS } from '../../api/tables.js';
import type { Strategy } from '../strategy.js';
import { add, forbidTemplateEphemeral, validatePodSpec, validateReplicas, validateSelectorAndTemplate, type Causes } from '../validation.js';

export const jobs: Strategy = {
  defaults(obj) {
    const s = obj.spec as batch.JobSpec | undefined;
    if (!s) return;
    s.parallelism ??= 1;
    s.completions ??= s.completions === null ? undefined : 1;
    s.backoffLimit ??= 6;
    s.completionMode ??= 'NonIndexed';
    s.suspend ??= false;
    templateDefaults(s.template);
  },
  prepareForCreate(obj) {
    obj.status = {};
  },
  validate(obj) {
    const c: Causes = [];
    const spec = obj.spec as Record<string, unknown> | undefined;
    for (const k of ['parallelism', 'completions', 'backoffLimit', 'activeDeadlineSeconds', 'ttlSecondsAfterFinished']) validateReplicas(c, `spec.${k}`, spec?.[k]);
    validateSelectorAndTemplate(c, spec as never, ['OnFailure', 'Never'], false);
    return c;
  },
  completeCreate: generateJobSelector,
  columns: PRINTERS.jobs,
};

/**
 * The Job strategy's generateSelector: unless `spec.manualSelector` is true, a Job selects its pods by its
 * own uid, and its template carries the labels that select them (kubectl logs/describe job use them).
 * Runs at create, once the uid is known.
 */
export function generateJobSelector(job: KObject): void {
  const spec = job.spec as (batch.JobSpec & { template?: { metadata?: { labels?: Record<string, string> } } }) | undefined;
  if (!spec || spec.manualSelector === true) return;
  const uid = job.metadata?.uid ?? '';
  const name = job.metadata?.name ?? '';
  const labels = { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': name, 'controller-uid': uid, 'job-name': name };
  (spec as { selector?: unknown }).selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
  spec.template = { ...spec.template, metadata: { ...spec.template?.metadata, labels: { ...spec.template?.metadata?.labels, ...labels } } } as batch.JobSpec['template'];
}

export const cronjobs: Strategy = {
  defaults(obj) {
    const s = obj.spec as batch.CronJobSpec | undefined;
    if (!s) return;
    s.concurrencyPolicy ??= 'Allow';
    s.suspend ??= false;
    s.successfulJobsHistoryLimit ??= 3;
    s.failedJobsHistoryLimit ??= 1;
    templateDefaults(s.jobTemplate?.spec?.template);
  },
  prepareForCreate(obj) {
    obj.status = {};
  },
  validate(obj) {
    const c: Causes = [];
    const spec = obj.spec as Record<string, unknown> | undefined;
    const schedule = spec?.schedule;
    const timeZone = typeof spec?.timeZone === 'string' ? spec.timeZone : undefined;
    if (typeof schedule !== 'string' || schedule.trim() === '') add(c, 'spec.schedule', 'Required value', 'FieldValueRequired');
    else {
      const why = scheduleError(schedule, timeZone);
      if (why) add(c, 'spec.schedule', `Invalid value: ${JSON.stringify(schedule)}: ${why}`);
    }
    const tzWhy = timeZone === undefined ? undefined : timeZoneError(timeZone);
    if (tzWhy) add(c, 'spec.timeZone', `Invalid value: ${JSON.stringify(timeZone)}: ${tzWhy}`);
    const jt = spec?.jobTemplate as { spec?: Record<string, unknown> } | undefined;
    if (!jt?.spec) add(c, 'spec.jobTemplate.spec', 'Required value', 'FieldValueRequired');
    else {
      const tplSpec = (jt.spec.template as core.PodTemplateSpec | undefined)?.spec;
      validatePodSpec(c, 'spec.jobTemplate.spec.template.spec', tplSpec, ['OnFailure', 'Never']);
      forbidTemplateEphemeral(c, 'spec.jobTemplate.spec.template.spec', tplSpec);
    }
    if (spec?.concurrencyPolicy && !['Allow', 'Forbid', 'Replace'].includes(spec.concurrencyPolicy as string))
      add(c, 'spec.concurrencyPolicy', `Unsupported value: "${String(spec.concurrencyPolicy)}": supported values: "Allow", "Forbid", "Replace"`, 'FieldValueNotSupported');
    return c;
  },
  columns: PRINTERS.cronjobs,
};
