/**
 * Kubernetes defaulting, applied on create and update before validation, so stored objects look like
 * the ones a real apiserver stores (kubectl get -o yaml shows the same fields).
 */
import type { KObject, core, apps, batch } from '../client/types.js';

type Obj = Record<string, unknown>;

function probeDefaults(p: core.Probe | undefined): void {
  if (!p) return;
  p.timeoutSeconds ??= 1;
  p.periodSeconds ??= 10;
  p.successThreshold ??= 1;
  p.failureThreshold ??= 3;
  if (p.httpGet) {
    p.httpGet.path ??= '/';
    p.httpGet.scheme ??= 'HTTP';
  }
}

function imageTagIsLatest(image: string): boolean {
  if (image.includes('@')) return false;
  const last = image.slice(image.lastIndexOf('/') + 1);
  return !last.includes(':') || last.endsWith(':latest');
}

function containerDefaults(ct: core.Container): void {
  ct.imagePullPolicy ??= ct.image && imageTagIsLatest(ct.image) ? 'Always' : 'IfNotPresent';
  ct.terminationMessagePath ??= '/dev/termination-log';
  ct.terminationMessagePolicy ??= 'File';
  ct.resources ??= {};
  for (const p of ct.ports ?? []) p.protocol ??= 'TCP';
  for (const e of ct.env ?? []) if (e.valueFrom?.fieldRef) e.valueFrom.fieldRef.apiVersion ??= 'v1';
  probeDefaults(ct.livenessProbe);
  probeDefaults(ct.readinessProbe);
  probeDefaults(ct.startupProbe);
  // A container that sets limits but not requests gets requests equal to its limits.
  if (ct.resources.limits) {
    ct.resources.requests ??= {};
    for (const [k, v] of Object.entries(ct.resources.limits)) ct.resources.requests[k] ??= v;
  }
}

export function podSpecDefaults(spec: core.PodSpec | undefined): void {
  if (!spec || typeof spec !== 'object') return;
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  spec.serviceAccountName ??= spec.serviceAccount ?? 'default';
  if (Array.isArray(spec.containers)) spec.containers.forEach((c) => c && containerDefaults(c));
  (spec.initContainers ?? []).forEach((c) => c && containerDefaults(c));
  // Kubernetes' SetDefaults_EphemeralContainer: the same container defaults.
  if (Array.isArray(spec.ephemeralContainers)) spec.ephemeralContainers.forEach((c) => c && containerDefaults(c as core.Container));
  for (const v of spec.volumes ?? []) {
    if (v.configMap) v.configMap.defaultMode ??= 0o644;
    if (v.secret) v.secret.defaultMode ??= 0o644;
    if (v.downwardAPI) v.downwardAPI.defaultMode ??= 0o644;
    if (v.projected) v.projected.defaultMode ??= 0o644;
    if (v.emptyDir === null) v.emptyDir = {};
  }
}

/**
 * DefaultTolerationSeconds admission: every pod tolerates not-ready/unreachable for 300 s unless it says
 * otherwise, so node loss evicts pods after that time (the lab preset shortens it through the flag).
 */
export function defaultTolerations(spec: core.PodSpec, seconds: number): void {
  const tol = (spec.tolerations ??= []);
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    if (!tol.some((t) => (t.key === key || (t.operator === 'Exists' && !t.key)) && (!t.effect || t.effect === 'NoExecute')))
      tol.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds });
  }
}

function qos(spec: core.PodSpec): string {
  const all = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  let anySet = false;
  let guaranteed = true;
  for (const c of all) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length || Object.keys(lim).length) anySet = true;
    for (const r of ['cpu', 'memory']) if (!lim[r] || (req[r] !== undefined && String(req[r]) !== String(lim[r]))) guaranteed = false;
  }
  if (!anySet) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

export function qosClass(spec: core.PodSpec): string {
  return qos(spec);
}

function templateDefaults(tpl: core.PodTemplateSpec | undefined): void {
  if (tpl && typeof tpl === 'object') podSpecDefaults(tpl.spec);
}

/** Applies defaults in place for the given resource. */
export function applyDefaults(resource: string, obj: KObject): void {
  const spec = obj.spec as Obj | undefined;
  switch (resource) {
    case 'pods':
      podSpecDefaults(obj.spec as core.PodSpec);
      break;
    case 'replicasets': {
      const s = spec as apps.ReplicaSetSpec | undefined;
      if (s) {
        s.replicas ??= 1;
        s.minReadySeconds ??= 0;
        templateDefaults(s.template);
      }
      break;
    }
    case 'horizontalpodautoscalers':
      hpaDefaults(spec);
      break;
    case 'deployments': {
      const s = spec as apps.DeploymentSpec | undefined;
      if (s) {
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
      }
      break;
    }
    case 'statefulsets': {
      const s = spec as apps.StatefulSetSpec | undefined;
      if (s) {
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
      }
      break;
    }
    case 'daemonsets': {
      const s = spec as apps.DaemonSetSpec | undefined;
      if (s) {
        s.updateStrategy ??= { type: 'RollingUpdate' };
        if (s.updateStrategy.type === 'RollingUpdate') s.updateStrategy.rollingUpdate ??= { maxUnavailable: 1, maxSurge: 0 };
        s.revisionHistoryLimit ??= 10;
        templateDefaults(s.template);
      }
      break;
    }
    case 'jobs': {
      const s = spec as batch.JobSpec | undefined;
      if (s) {
        s.parallelism ??= 1;
        s.completions ??= s.completions === null ? undefined : 1;
        s.backoffLimit ??= 6;
        s.completionMode ??= 'NonIndexed';
        s.suspend ??= false;
        templateDefaults(s.template);
      }
      break;
    }
    case 'cronjobs': {
      const s = spec as batch.CronJobSpec | undefined;
      if (s) {
        s.concurrencyPolicy ??= 'Allow';
        s.suspend ??= false;
        s.successfulJobsHistoryLimit ??= 3;
        s.failedJobsHistoryLimit ??= 1;
        templateDefaults(s.jobTemplate?.spec?.template);
      }
      break;
    }
    case 'services': {
      const s = spec as core.ServiceSpec | undefined;
      if (s) {
        s.type ??= 'ClusterIP';
        s.sessionAffinity ??= 'None';
        if (s.type !== 'ExternalName') {
          s.internalTrafficPolicy ??= 'Cluster';
          s.ipFamilies ??= ['IPv4'];
          s.ipFamilyPolicy ??= 'SingleStack';
        }
        if ((s.type === 'NodePort' || s.type === 'LoadBalancer')) s.externalTrafficPolicy ??= 'Cluster';
        for (const p of s.ports ?? []) {
          p.protocol ??= 'TCP';
          p.targetPort ??= p.port;
        }
      }
      break;
    }
    case 'namespaces':
      obj.spec = { finalizers: ['kubernetes'], ...(spec ?? {}) };
      obj.status = { phase: 'Active', ...((obj.status as Obj | undefined) ?? {}) };
      break;
    case 'persistentvolumeclaims': {
      const s = spec as core.PersistentVolumeClaimSpec | undefined;
      if (s) s.volumeMode ??= 'Filesystem';
      obj.status ??= { phase: 'Pending' };
      break;
    }
    case 'persistentvolumes': {
      const s = spec as core.PersistentVolumeSpec | undefined;
      if (s) {
        s.persistentVolumeReclaimPolicy ??= 'Retain';
        s.volumeMode ??= 'Filesystem';
      }
      obj.status ??= { phase: 'Pending' };
      break;
    }
    case 'secrets':
      obj.type ??= 'Opaque';
      mergeStringData(obj);
      break;
    case 'storageclasses':
      obj.reclaimPolicy ??= 'Delete';
      obj.volumeBindingMode ??= 'Immediate';
      break;
    default:
      break;
  }
}

/**
 * Kubernetes' Secret conversion: `stringData` is a write-only convenience, merged into `data`
 * (base64, overriding a key of the same name) and never stored or returned.
 */
function mergeStringData(obj: KObject): void {
  const stringData = obj.stringData as Record<string, string> | undefined;
  delete obj.stringData;
  if (!stringData || Object.keys(stringData).length === 0) return;
  const data = { ...(obj.data as Record<string, string> | undefined) };
  for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(v, 'utf8').toString('base64');
  obj.data = data;
}

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

/**
 * autoscaling/v2 SetDefaults_HorizontalPodAutoscaler: minReplicas 1, CPU at 80 % when no metric is given,
 * and a given `behavior`'s unset fields filled (an absent behavior stays absent: the controller then uses
 * its own rules). The scale-down window stays unset so the controller's flag decides it.
 */
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
