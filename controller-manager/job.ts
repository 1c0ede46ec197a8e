/**
 * Job controller: runs pods until `completions` succeed (parallelism at a time), counts failures
 * (failed pods plus container restarts) against backoffLimit with exponential delay between
 * recreations, fails at activeDeadlineSeconds, and deletes finished Jobs after ttlSecondsAfterFinished.
 * The apiserver gives each Job a selector on its own uid (and the matching template labels, which pods
 * get); the controller still finds its pods by controller ownerReference.
 */
import { isAlreadyExists, isNotFound } from '../api/errors.js';
import { controllerRef, isPodActive, isPodReady, nowTimestamp, ownerRefTo } from '../api/objects.js';
import type { batch } from '../api/types.js';
import type { Controller, ControllerContext, Enqueue } from './context.js';
import { enqueueFor, enqueueOwner } from './handlers.js';
import { Expectations } from './expectations.js';
import { podFromTemplate, podsToDelete } from './podutil.js';
import { writable, type Job, type Pod } from './types.js';

function finished(job: Job): 'Complete' | 'Failed' | undefined {
  for (const c of job.status?.conditions ?? []) if ((c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') return c.type;
  return undefined;
}

export class JobController implements Controller {
  readonly name = 'job';
  readonly primary = 'jobs' as const;
  private readonly jobs;
  private readonly pods;
  private readonly expectations: Expectations;

  constructor(private readonly ctx: ControllerContext) {
    this.jobs = ctx.informers.get('jobs');
    this.pods = ctx.informers.get('pods');
    this.expectations = new Expectations(ctx.clock);
  }

  register(q: Enqueue): void {
    enqueueFor(this.jobs, q, { deletes: false, forget: (k) => this.expectations.delete(k) });
    enqueueOwner(this.pods, 'Job', q, { created: (k) => this.expectations.creationObserved(k) });
  }

  async reconcile(key: string): Promise<{ requeueAfter?: number } | void> {
    const job = this.jobs.get(key);
    if (!job) return;
    const now = this.ctx.clock.now();
    const uid = job.metadata?.uid ?? '';
    const pods = this.pods.byIndex('owner', uid).filter((p) => controllerRef(p)?.uid === uid);
    const done = finished(job);
    if (done) return this.handleTtl(job, now);
    if (job.metadata?.deletionTimestamp) return;
    const spec = job.spec ?? ({} as batch.JobSpec);
    const active = pods.filter(isPodActive);
    const succeeded = pods.filter((p) => p.status?.phase === 'Succeeded').length;
    const failedPods = pods.filter((p) => p.status?.phase === 'Failed');
    const restarts = pods.reduce((n, p) => n + (p.status?.containerStatuses ?? []).reduce((m, c) => m + (c.restartCount ?? 0), 0), 0);
    const failures = failedPods.length + (spec.template?.spec?.restartPolicy === 'OnFailure' ? restarts : 0);
    const status: batch.JobStatus = { ...((job.status ?? {}) as batch.JobStatus) };
    status.startTime ??= nowTimestamp(now);
    const completions = spec.completions ?? undefined;
    const parallelism = spec.parallelism ?? 1;
    const backoffLimit = spec.backoffLimit ?? 6;
    let finish: { type: 'Complete' | 'Failed'; reason: string; message: string } | undefined;
    const started = Date.parse(status.startTime);
    if (spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds !== null && now >= started + spec.activeDeadlineSeconds * 1000)
      finish = { type: 'Failed', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
    else if (failures > backoffLimit) finish = { type: 'Failed', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
    else if (completions !== undefined ? succeeded >= completions : succeeded > 0 && active.length === 0)
      finish = { type: 'Complete', reason: 'Completed', message: 'Job completed' };
    let requeueAfter: number | undefined;
    if (finish) {
      // A finished job leaves nothing running.
      for (const p of active) await this.deletePod(p);
    } else if (!spec.suspend && this.expectations.satisfied(key)) {
      const want = completions !== undefined ? Math.min(parallelism, completions - succeeded) : succeeded > 0 ? 0 : parallelism;
      const diff = want - active.length;
      if (diff > 0) {
        // Back off after failures: base·2^(failures-1), counted from the last failure.
        const lastFail = Math.max(0, ...failedPods.map((p) => Date.parse(p.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime ?? p.metadata?.creationTimestamp ?? '') || 0));
        const delay = failures > 0 ? Math.min(this.ctx.config.jobBackoffBaseMs * 2 ** (failures - 1), this.ctx.config.jobBackoffMaxMs) : 0;
        const wait = lastFail + delay - now;
        if (failures > 0 && wait > 0) requeueAfter = wait;
        else {
          this.expectations.expectCreations(key, diff);
          for (let i = 0; i < diff; i++) {
            try {
              const pod = podFromTemplate(spec.template ?? {}, job.metadata?.namespace ?? '', ownerRefTo(job), `${job.metadata?.name}-`);
              pod.metadata = {
                ...pod.metadata,
                labels: { ...pod.metadata?.labels, 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': job.metadata?.name ?? '', 'controller-uid': uid, 'job-name': job.metadata?.name ?? '' },
              };
              const created = await this.ctx.client.create('pods', pod);
              this.ctx.recorder.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name}`);
            } catch (err) {
              for (let j = i; j < diff; j++) this.expectations.creationObserved(key);
              if (!isAlreadyExists(err)) throw err;
            }
          }
        }
      } else if (diff < 0) {
        for (const p of podsToDelete(active, -diff)) await this.deletePod(p);
      }
    }
    if (spec.suspend) for (const p of active) await this.deletePod(p);
    status.active = finish ? 0 : active.length;
    status.ready = active.filter(isPodReady).length;
    status.succeeded = succeeded;
    status.failed = failures;
    if (finish) {
      const ts = nowTimestamp(now);
      status.conditions = [...(status.conditions ?? []), { type: finish.type, status: 'True', reason: finish.reason, message: finish.message, lastProbeTime: ts, lastTransitionTime: ts }];
      if (finish.type === 'Complete') status.completionTime = ts;
      this.ctx.recorder.event(job, finish.type === 'Complete' ? 'Normal' : 'Warning', finish.reason, finish.message);
    } else if (spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds !== null) {
      const left = started + spec.activeDeadlineSeconds * 1000 - now;
      requeueAfter = Math.min(requeueAfter ?? Infinity, left + 50);
    }
    const prev = JSON.stringify(job.status ?? {});
    if (JSON.stringify(status) !== prev) {
      const upd = writable(job);
      upd.status = status;
      await this.ctx.client.updateStatus('jobs', upd);
    }
    if (finish) return this.handleTtl({ ...job, status } as Job, now);
    // Held by expectations (creations not yet observed): come back when they expire, as the ReplicaSet controller does.
    const held = this.expectations.expiresInMs(key);
    if (held !== undefined) requeueAfter = Math.min(requeueAfter ?? Infinity, held + 100);
    return requeueAfter !== undefined ? { requeueAfter } : undefined;
  }

  private async handleTtl(job: Job, now: number): Promise<{ requeueAfter: number } | void> {
    const ttl = job.spec?.ttlSecondsAfterFinished;
    if (ttl === undefined || ttl === null || job.metadata?.deletionTimestamp) return;
    const cond = job.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
    const at = Date.parse(job.status?.completionTime ?? cond?.lastTransitionTime ?? '') + ttl * 1000;
    if (Number.isFinite(at) && at > now) return { requeueAfter: at - now + 50 };
    try {
      await this.ctx.client.delete('jobs', job.metadata?.name ?? '', { namespace: job.metadata?.namespace, propagationPolicy: 'Background', preconditions: { uid: job.metadata?.uid } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async deletePod(p: Pod): Promise<void> {
    try {
      await this.ctx.client.delete('pods', p.metadata?.name ?? '', { namespace: p.metadata?.namespace, preconditions: { uid: p.metadata?.uid } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
