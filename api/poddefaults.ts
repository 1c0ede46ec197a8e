/**
 * Pod spec defaulting (and the QoS class it implies), shared by the apiserver's strategies and the
 * kubelet's static pods: applied on create and update before validation, so stored objects look like the ones a real apiserver stores
 * (kubectl get -o yaml shows the same fields).
 */
import type { core } from './types.js';

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

/** Pod defaults inside a workload's template. */
export function templateDefaults(tpl: core.PodTemplateSpec | undefined): void {
  if (tpl && typeof tpl === 'object') podSpecDefaults(tpl.spec);
}
