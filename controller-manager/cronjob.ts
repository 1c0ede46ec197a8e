/**
 * CronJob controller: creates a Job `<cronjob>-<minutes since epoch>` for the most recent missed
 * schedule time (cron-parser, optional timeZone), honouring suspend, startingDeadlineSeconds and
 * concurrencyPolicy (Allow, Forbid, Replace); keeps successful/failed history within the limits and
 * requeues itself for the next schedule time.
 */
import { parseSchedule } from '../api/cron.js';
import { isAlreadyExists, isNotFound, TerminalError } from '../api/errors.js';
import { clone, controllerRef, nowTimestamp, ownerRefTo } from '../api/objects.js';
import type { batch } from '../api/types.js';
import type { Controller, ControllerContext, Enqueue } from './context.js';
import { enqueueFor, enqueueOwner, updateStatusIfChanged } from './handlers.js';
import type { CronJob, Job } from './types.js';

export const SCHEDULED_TIMESTAMP = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

/** The latest schedule time in (since, now], and the next one after now (pure). */
export function scheduleTimes(schedule: string, since: number, now: number, timeZone?: string): { latest?: number; missed: number; next: number } {
  const expr = parseSchedule(schedule, since, timeZone);
  let latest: number | undefined;
  let missed = 0;
  for (;;) {
    const t = expr.next().getTime();
    if (t > now) return { latest, missed, next: t };
    latest = t;
    missed++;
    if (missed > 1000) {
      // Too many missed: jump ahead rather than walking every slot.
      const e2 = parseSchedule(schedule, now, timeZone);
      const next = e2.next().getTime();
      const prev = parseSchedule(schedule, now + 1, timeZone).prev().getTime();
      return { latest: prev, missed, next };
    }
  }
}

function jobFinished(j: Job): 'Complete' | 'Failed' | undefined {
  return j.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')?.type as 'Complete' | 'Failed' | undefined;
}

export class CronJobController implements Controller {
  readonly name = 'cronjob';
  readonly primary = 'cronjobs' as const;
  private readonly cjs;
  private readonly jobs;

  constructor(private readonly ctx: ControllerContext) {
    this.cjs = ctx.informers.get('cronjobs');
    this.jobs = ctx.informers.get('jobs');
  }

  register(q: Enqueue): void {
    enqueueFor(this.cjs, q, { deletes: false });
    enqueueOwner(this.jobs, 'CronJob', q);
  }

  async reconcile(key: string): Promise<{ requeueAfter?: number } | void> {
    const cj = this.cjs.get(key);
    if (!cj || cj.metadata?.deletionTimestamp) return;
    const now = this.ctx.clock.now();
    const spec = cj.spec ?? ({} as batch.CronJobSpec);
    const uid = cj.metadata?.uid ?? '';
    const jobs = this.jobs.byIndex('owner', uid).filter((j) => controllerRef(j)?.uid === uid);
    const active = jobs.filter((j) => !jobFinished(j) && !j.metadata?.deletionTimestamp);
    const status: batch.CronJobStatus = { ...((cj.status ?? {}) as batch.CronJobStatus) };
    const lastSucc = jobs.filter((j) => jobFinished(j) === 'Complete').map((j) => j.status?.completionTime ?? '').sort().pop();
    if (lastSucc) status.lastSuccessfulTime = lastSucc;
    await this.cleanupHistory(cj, jobs);

    const since = Date.parse(status.lastScheduleTime ?? cj.metadata?.creationTimestamp ?? '') || now;
    let times;
    try {
      times = scheduleTimes(spec.schedule, since, now, spec.timeZone);
    } catch (err) {
      this.ctx.recorder.event(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: "${spec.schedule}": ${(err as Error).message}`);
      throw new TerminalError(`cronjob ${key}: invalid schedule`);
    }
    const requeue = { requeueAfter: Math.max(100, times.next - now + 50) };
    if (!spec.suspend && times.latest !== undefined) {
      const scheduled = times.latest;
      const deadline = spec.startingDeadlineSeconds;
      const tooLate = deadline !== undefined && deadline !== null && scheduled + deadline * 1000 < now;
      if (tooLate) {
        this.ctx.recorder.event(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${new Date(scheduled).toISOString()}`);
        status.lastScheduleTime = nowTimestamp(scheduled);
      } else if (spec.concurrencyPolicy === 'Forbid' && active.length > 0) {
        // Wait: the slot is retried on the next sync while still within the deadline.
        this.ctx.recorder.event(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
        await this.writeStatus(cj, status, active);
        return { requeueAfter: 1000 };
      } else {
        if (spec.concurrencyPolicy === 'Replace') {
          for (const j of active) {
            try {
              await this.ctx.client.delete('jobs', j.metadata?.name ?? '', { namespace: j.metadata?.namespace, propagationPolicy: 'Background' });
              this.ctx.recorder.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${j.metadata?.name}`);
            } catch (err) {
              if (!isNotFound(err)) throw err;
            }
          }
          active.length = 0;
        }
        const name = `${cj.metadata?.name}-${Math.floor(scheduled / 60_000)}`;
        const tpl = clone(spec.jobTemplate ?? {});
        try {
          const job = await this.ctx.client.create('jobs', {
            apiVersion: 'batch/v1',
            kind: 'Job',
            metadata: {
              name,
              namespace: cj.metadata?.namespace,
              labels: { ...(tpl.metadata?.labels ?? {}) },
              annotations: { ...(tpl.metadata?.annotations ?? {}), [SCHEDULED_TIMESTAMP]: new Date(scheduled).toISOString() },
              ownerReferences: [ownerRefTo(cj)],
            },
            spec: tpl.spec ?? ({} as batch.JobSpec),
          });
          active.push(job as Job);
          this.ctx.recorder.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${name}`);
        } catch (err) {
          if (!isAlreadyExists(err)) throw err;
        }
        status.lastScheduleTime = nowTimestamp(scheduled);
      }
    }
    await this.writeStatus(cj, status, active);
    return requeue;
  }

  private async writeStatus(cj: CronJob, status: batch.CronJobStatus, active: Job[]): Promise<void> {
    status.active = active.length
      ? active.map((j) => ({ kind: 'Job', apiVersion: 'batch/v1', name: j.metadata?.name, namespace: j.metadata?.namespace, uid: j.metadata?.uid }))
      : undefined;
    if (!status.active) delete status.active;
    await updateStatusIfChanged(this.ctx.client, 'cronjobs', cj, status, (cur) => JSON.stringify(status) === JSON.stringify(cur ?? {}));
  }

  private async cleanupHistory(cj: CronJob, jobs: Job[]): Promise<void> {
    const byStart = (a: Job, b: Job): number => Date.parse(a.metadata?.creationTimestamp ?? '') - Date.parse(b.metadata?.creationTimestamp ?? '');
    for (const [kind, limit] of [['Complete', cj.spec?.successfulJobsHistoryLimit ?? 3], ['Failed', cj.spec?.failedJobsHistoryLimit ?? 1]] as const) {
      const done = jobs.filter((j) => jobFinished(j) === kind && !j.metadata?.deletionTimestamp).sort(byStart);
      for (const j of done.slice(0, Math.max(0, done.length - limit))) {
        try {
          await this.ctx.client.delete('jobs', j.metadata?.name ?? '', { namespace: j.metadata?.namespace, propagationPolicy: 'Background' });
          this.ctx.recorder.event(cj, 'Normal', 'SawCompletedJob', `Deleted job ${j.metadata?.name}`);
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
    }
  }
}
