/**
 * Services (Kubernetes' pkg/registry/core/service): defaults, validation, and the ClusterIP and NodePort
 * allocation the service REST storage does around every write.
 */
import { invalid } from '../../api/errors.js';
import type { KObject, core } from '../../api/types.js';
import { PRINTERS } from '../../api/tables.js';
import type { Strategy, StrategyContext } from '../strategy.js';
import { add, validateDns1123Label, validateLabels, validatePort, type Causes } from '../validation.js';

export const services: Strategy = {
  validateName: validateDns1123Label,
  defaults(obj) {
    const s = obj.spec as core.ServiceSpec | undefined;
    if (!s) return;
    s.type ??= 'ClusterIP';
    s.sessionAffinity ??= 'None';
    if (s.type !== 'ExternalName') {
      s.internalTrafficPolicy ??= 'Cluster';
      s.ipFamilies ??= ['IPv4'];
      s.ipFamilyPolicy ??= 'SingleStack';
    }
    if (s.type === 'NodePort' || s.type === 'LoadBalancer') s.externalTrafficPolicy ??= 'Cluster';
    for (const p of s.ports ?? []) {
      p.protocol ??= 'TCP';
      p.targetPort ??= p.port;
    }
  },
  prepareForCreate(obj) {
    obj.status = { loadBalancer: {} };
  },
  validate(obj) {
    const c: Causes = [];
    const s = obj.spec as core.ServiceSpec | undefined;
    if (s?.type && !['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'].includes(s.type))
      add(c, 'spec.type', `Unsupported value: "${s.type}": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"`, 'FieldValueNotSupported');
    if (s?.type !== 'ExternalName' && (!s?.ports || s.ports.length === 0) && s?.clusterIP !== 'None') add(c, 'spec.ports', 'Required value', 'FieldValueRequired');
    const names = new Set<string>();
    (s?.ports ?? []).forEach((p, i) => {
      validatePort(c, `spec.ports[${i}].port`, p.port);
      if (typeof p.targetPort === 'number') validatePort(c, `spec.ports[${i}].targetPort`, p.targetPort);
      if (p.nodePort !== undefined && p.nodePort !== 0 && (p.nodePort < 30000 || p.nodePort > 32767))
        add(c, `spec.ports[${i}].nodePort`, `Invalid value: ${p.nodePort}: provided port is not in the valid range. The range of valid ports is 30000-32767`);
      if ((s?.ports?.length ?? 0) > 1 && !p.name) add(c, `spec.ports[${i}].name`, 'Required value', 'FieldValueRequired');
      if (p.name) {
        if (names.has(p.name)) add(c, `spec.ports[${i}].name`, `Duplicate value: "${p.name}"`, 'FieldValueDuplicate');
        names.add(p.name);
      }
    });
    if (s?.sessionAffinity && !['None', 'ClientIP'].includes(s.sessionAffinity)) add(c, 'spec.sessionAffinity', `Unsupported value: "${s.sessionAffinity}"`, 'FieldValueNotSupported');
    validateLabels(c, 'spec.selector', s?.selector);
    return c;
  },
  allocate: allocateService,
  async afterUpdate(cur, next, ctx) {
    const kept = new Set(((next.spec as core.ServiceSpec).ports ?? []).map((p) => p.nodePort).filter(Boolean));
    for (const p of (cur.spec as core.ServiceSpec).ports ?? []) if (p.nodePort && !kept.has(p.nodePort)) await ctx.allocators.releasePort(p.nodePort);
  },
  async afterDelete(obj, ctx) {
    const spec = obj.spec as core.ServiceSpec | undefined;
    await ctx.allocators.releaseIp(spec?.clusterIP);
    for (const p of spec?.ports ?? []) await ctx.allocators.releasePort(p.nodePort);
  },
  columns: PRINTERS.services,
};

/** Allocates ClusterIP and NodePorts; returns a function that releases what was newly allocated. */
async function allocateService(obj: KObject, old: KObject | undefined, ctx: StrategyContext): Promise<() => Promise<void>> {
  const { allocators } = ctx;
  const spec = obj.spec as core.ServiceSpec;
  const oldSpec = old?.spec as core.ServiceSpec | undefined;
  const name = obj.metadata?.name ?? '';
  const releases: (() => Promise<void>)[] = [];
  try {
    if (spec.type === 'ExternalName') {
      delete spec.clusterIP;
    } else if (oldSpec?.clusterIP) {
      if (spec.clusterIP && spec.clusterIP !== oldSpec.clusterIP)
        throw invalid('Service', name, [{ field: 'spec.clusterIPs[0]', message: `Invalid value: []string{"${spec.clusterIP}"}: may not change once set`, reason: 'FieldValueInvalid' }]);
      spec.clusterIP = oldSpec.clusterIP;
    } else if (spec.clusterIP !== 'None') {
      const ip = await allocators.allocateIp(name, spec.clusterIP || undefined);
      releases.push(() => allocators.releaseIp(ip));
      spec.clusterIP = ip;
    }
    if (spec.clusterIP) spec.clusterIPs = [spec.clusterIP];
    const wantNodePorts = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
    const oldPorts = new Map((oldSpec?.ports ?? []).filter((p) => p.nodePort).map((p) => [`${p.port}/${p.protocol}`, p.nodePort as number]));
    for (const [i, p] of (spec.ports ?? []).entries()) {
      if (!wantNodePorts) {
        delete p.nodePort;
        continue;
      }
      const prev = oldPorts.get(`${p.port}/${p.protocol}`);
      if (p.nodePort && p.nodePort === prev) continue;
      if (!p.nodePort && prev) {
        p.nodePort = prev;
        continue;
      }
      const port = await allocators.allocatePort(name, `spec.ports[${i}].nodePort`, p.nodePort || undefined);
      releases.push(() => allocators.releasePort(port));
      p.nodePort = port;
    }
  } catch (err) {
    for (const r of releases) await r();
    throw err;
  }
  return async () => {
    for (const r of releases) await r();
  };
}
