/**
 * Pods (Kubernetes' pkg/registry/core/pod/strategy.go plus the admission plugins that act on pods:
 * Priority, DefaultTolerationSeconds) and their binding, eviction and ephemeralcontainers subresources.
 */
import { isDeepStrictEqual } from 'node:util';
import { ApiError, bindingRefused, invalid, notFound } from '../../api/errors.js';
import { budgetSelects, computeBudget, evictionAllowed } from '../../api/disruption.js';
import { nowTimestamp } from '../../api/objects.js';
import type { KObject, Mutable, core, policy, scheduling } from '../../api/types.js';
import { defaultTolerations, podSpecDefaults, qosClass } from '../../api/poddefaults.js';
import { PRINTERS } from '../../api/tables.js';
import type { DeleteRequest, Strategy, StrategyContext } from '../strategy.js';
import { validateEphemeralContainersUpdate, validatePodCreate, validatePodSpec, type Causes } from '../validation.js';
import { globalDefaultPriorityClass } from './scheduling.js';

/** The kubelet's mark on the mirror pod of a static pod. */
const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

const SUCCESS: KObject = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };

export const pods: Strategy = {
  defaults(obj) {
    podSpecDefaults(obj.spec as core.PodSpec);
  },
  prepareForCreate(obj, ctx) {
    const spec = obj.spec as core.PodSpec | undefined;
    obj.status = { phase: 'Pending', ...(spec && typeof spec === 'object' && Array.isArray(spec.containers) ? { qosClass: qosClass(spec) } : {}) };
    // Before validation: a pod without a spec gets validation's 422, not a crash here.
    if (spec && typeof spec === 'object') defaultTolerations(spec, ctx.config.defaultTolerationSeconds);
  },
  validate(obj) {
    const c: Causes = [];
    validatePodSpec(c, 'spec', obj.spec as core.PodSpec);
    return c;
  },
  validateCreate: validatePodCreate,
  validateUpdate(next, cur, { subresource, ignoreImmutability }) {
    // Through pods/ephemeralcontainers the merge took nothing but spec.ephemeralContainers, so only those
    // need checking; every other pod write keeps the immutable spec.
    if (subresource === 'ephemeralcontainers')
      return validateEphemeralContainersUpdate(next as core.Pod, cur as core.Pod, cur.metadata?.annotations?.[MIRROR_ANNOTATION] !== undefined);
    return ignoreImmutability ? [] : immutableSpec(cur, next);
  },
  admit(obj, ctx) {
    admitPriority(obj as Mutable<core.Pod>, ctx);
  },
  gracePeriodSeconds(obj, requested) {
    const pod = obj as core.Pod;
    if (!pod.spec?.nodeName) return 0;
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return 0;
    return requested ?? pod.spec.terminationGracePeriodSeconds ?? 30;
  },
  // A pod bound to a node goes once the kubelet is done with it (it writes gracePeriodSeconds=0).
  deletionComplete(obj) {
    const pod = obj as core.Pod;
    return !pod.spec?.nodeName || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed' || obj.metadata?.deletionGracePeriodSeconds === 0;
  },
  createSubresources: { binding: bind, eviction: evictSubresource },
  mergeSubresources: {
    // Only spec.ephemeralContainers is taken from the request (Kubernetes drops every other change).
    ephemeralcontainers(cur, incoming) {
      const next = structuredClone(cur);
      const spec = { ...(next.spec as core.PodSpec) };
      const wanted = (incoming.spec as core.PodSpec | undefined)?.ephemeralContainers;
      if (wanted === undefined || wanted === null) delete spec.ephemeralContainers;
      else spec.ephemeralContainers = wanted;
      next.spec = spec;
      return next;
    },
  },
  columns: PRINTERS.pods,
};

function immutableSpec(cur: KObject, next: KObject): Causes {
  const strip = (spec: core.PodSpec | undefined): unknown => {
    if (!spec) return spec;
    const s = structuredClone(spec);
    for (const c of [...(s.containers ?? []), ...(s.initContainers ?? [])]) delete (c as { image?: string }).image;
    delete s.activeDeadlineSeconds;
    delete s.tolerations;
    delete s.terminationGracePeriodSeconds;
    return JSON.parse(JSON.stringify(s)) as unknown;
  };
  if (isDeepStrictEqual(strip(cur.spec as core.PodSpec), strip(next.spec as core.PodSpec))) return [];
  return [
    {
      field: 'spec',
      message: 'Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
      reason: 'FieldValueForbidden',
    },
  ];
}

/**
 * Kubernetes' Priority admission: spec.priority comes from the pod's priorityClassName (or the global
 * default class, else 0) and may not be set by hand to anything else.
 */
function admitPriority(pod: Mutable<core.Pod>, ctx: StrategyContext): void {
  const spec = pod.spec as Mutable<core.PodSpec>;
  const name = spec.priorityClassName;
  let pc: scheduling.PriorityClass | undefined;
  if (name) {
    pc = ctx.cachedGet('priorityclasses', name) as unknown as scheduling.PriorityClass | undefined;
    if (!pc) throw new ApiError('Forbidden', `pods "${pod.metadata?.name ?? pod.metadata?.generateName ?? ''}" is forbidden: no PriorityClass with name ${name} was found`);
  } else pc = globalDefaultPriorityClass(ctx);
  const value = pc?.value ?? 0;
  if (spec.priority !== undefined && spec.priority !== value)
    throw new ApiError(
      'Forbidden',
      `pods "${pod.metadata?.name ?? ''}" is forbidden: the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${value} from the given PriorityClass name`,
    );
  spec.priority = value;
  if (pc) {
    spec.priorityClassName = pc.metadata?.name;
    spec.preemptionPolicy ??= pc.preemptionPolicy ?? 'PreemptLowerPriority';
  }
}

/** pods/binding: the scheduler's write of spec.nodeName, once, on a pod not being deleted. */
async function bind(ctx: StrategyContext, namespace: string, name: string, input: unknown): Promise<KObject> {
  const body = (input ?? {}) as { target?: { name?: string }; metadata?: { uid?: string } };
  const node = body.target?.name;
  if (!node) throw invalid('Binding', name, [{ field: 'target.name', message: 'Required value', reason: 'FieldValueRequired' }]);
  await ctx.mutate(
    'pods',
    namespace,
    name,
    (pod) => {
      const p = pod as Mutable<core.Pod>;
      if (body.metadata?.uid && p.metadata?.uid !== body.metadata.uid) throw bindingRefused(name, 'PodUIDMismatch', 'the UID in the binding does not match the pod');
      if (p.spec?.nodeName) throw bindingRefused(name, 'PodAlreadyAssigned', `pod ${name} is already assigned to node "${p.spec.nodeName}"`);
      if (p.metadata?.deletionTimestamp) throw bindingRefused(name, 'PodBeingDeleted', 'the pod is being deleted');
      p.spec = { ...(p.spec as core.PodSpec), nodeName: node };
      const conds = (p.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
      conds.push({ type: 'PodScheduled', status: 'True', lastTransitionTime: nowTimestamp() });
      p.status = { ...p.status, conditions: conds };
      return p as KObject;
    },
    { ignoreImmutability: true },
  );
  return SUCCESS;
}

async function evictSubresource(ctx: StrategyContext, namespace: string, name: string, input: unknown): Promise<KObject> {
  await evict(ctx, namespace, name, ((input ?? {}) as { deleteOptions?: DeleteRequest }).deleteOptions ?? {});
  return SUCCESS;
}

/**
 * The eviction subresource: a delete that PodDisruptionBudgets may refuse (429, as in Kubernetes).
 * Evictions in one namespace run one at a time and each waits until the watch cache has seen its
 * delete, so two concurrent evictions never both spend the same allowed disruption.
 */
function evict(ctx: StrategyContext, namespace: string, name: string, options: DeleteRequest): Promise<void> {
  return ctx.serialize(`eviction/${namespace}`, async () => {
    const pod = (await ctx.read('pods', namespace, name)) as core.Pod | undefined;
    if (!pod) throw notFound('pods', name);
    const budgets = ctx.cachedList('poddisruptionbudgets') as policy.PodDisruptionBudget[];
    const all = ctx.cachedList('pods') as core.Pod[];
    const guarding = budgets.filter((b) => budgetSelects(b, pod));
    if (guarding.length > 1) throw new ApiError('InternalError', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
    for (const b of guarding) {
      const budget = computeBudget(b, all);
      if (!evictionAllowed(pod, budget))
        throw new ApiError('TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", {
          name,
          kind: 'pods',
          causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${b.metadata?.name} needs ${budget.desiredHealthy} healthy pods and has ${budget.currentHealthy} currently`, field: '' }],
        });
    }
    const res = await ctx.delete('pods', namespace, name, options);
    const rv = Number(res.metadata?.resourceVersion ?? 0);
    if (guarding.length && rv) await ctx.waitFresh('pods', rv);
  });
}
