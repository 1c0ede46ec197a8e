/**
 * Pod Security Standards checks, with the reasons and details the pod-security-admission library words
 * (staging/src/k8s.io/pod-security-admission/policy/check_*_test.go cases).
 */
import { describe, expect, it } from 'vitest';
import { evaluatePod, formatFailures, namespacePolicy, policyLabelErrors, type PodSpecLike } from './podsecurity.js';

const c = (name: string, securityContext: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({ name, securityContext, ...extra });
const restrictedOk = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } };

describe('baseline', () => {
  const cases: [string, PodSpecLike, string][] = [
    ['a plain pod', { containers: [c('a')] }, ''],
    ['privileged', { containers: [c('a', { privileged: true })] }, 'privileged (container "a" must not set securityContext.privileged=true)'],
    ['two privileged', { containers: [c('a', { privileged: true }), c('b', { privileged: true })] }, 'privileged (containers "a", "b" must not set securityContext.privileged=true)'],
    ['host namespaces', { hostNetwork: true, hostIPC: true, containers: [c('a')] }, 'host namespaces (hostNetwork=true, hostIPC=true)'],
    ['hostPath', { volumes: [{ name: 'v', hostPath: { path: '/' } }], containers: [c('a')] }, 'hostPath volumes (volume "v")'],
    ['hostPort', { containers: [c('a', {}, { ports: [{ hostPort: 80 }, { hostPort: 443 }] })] }, 'hostPort (container "a" uses hostPorts 80, 443)'],
    ['capabilities', { containers: [c('a', { capabilities: { add: ['NET_ADMIN', 'CHOWN', 'SYS_ADMIN'] } })] }, 'non-default capabilities (container "a" must not include "NET_ADMIN", "SYS_ADMIN" in securityContext.capabilities.add)'],
    ['baseline capability is fine', { containers: [c('a', { capabilities: { add: ['NET_BIND_SERVICE'] } })] }, ''],
    ['procMount', { containers: [c('a', { procMount: 'Unmasked' })] }, 'procMount (container "a" must not set securityContext.procMount to "Unmasked")'],
    ['seccomp unconfined', { securityContext: { seccompProfile: { type: 'Unconfined' } }, containers: [c('a')] }, 'seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")'],
    ['sysctls', { securityContext: { sysctls: [{ name: 'kernel.msgmax' }, { name: 'net.ipv4.tcp_syncookies' }] }, containers: [c('a')] }, 'forbidden sysctls (kernel.msgmax)'],
    ['init containers count', { initContainers: [c('init', { privileged: true })], containers: [c('a')] }, 'privileged (container "init" must not set securityContext.privileged=true)'],
  ];
  it.each(cases)('%s', (_n, spec, want) => expect(formatFailures(evaluatePod('baseline', spec))).toBe(want));

  it('lists every failed check in Kubernetes\' order', () => {
    expect(formatFailures(evaluatePod('baseline', { hostPID: true, containers: [c('a', { privileged: true })] }))).toBe(
      'host namespaces (hostPID=true), privileged (container "a" must not set securityContext.privileged=true)',
    );
  });
  it('privileged admits anything', () => expect(evaluatePod('privileged', { hostPID: true, containers: [c('a', { privileged: true })] })).toEqual([]));
});

describe('restricted', () => {
  it('accepts a pod that sets what restricted asks', () => {
    expect(evaluatePod('restricted', { containers: [c('a', restrictedOk)], volumes: [{ name: 'cm', configMap: { name: 'x' } }] })).toEqual([]);
  });
  it('names every missing setting of a plain pod', () => {
    expect(formatFailures(evaluatePod('restricted', { containers: [c('a')] }))).toBe(
      'allowPrivilegeEscalation != false (container "a" must set securityContext.allowPrivilegeEscalation=false), ' +
        'unrestricted capabilities (container "a" must set securityContext.capabilities.drop=["ALL"]), ' +
        'runAsNonRoot != true (pod or container "a" must set securityContext.runAsNonRoot=true), ' +
        'seccompProfile (pod or container "a" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    );
  });
  it('pod-level runAsNonRoot and seccomp cover the containers', () => {
    const spec = { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }, containers: [c('a', { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } })] };
    expect(evaluatePod('restricted', spec)).toEqual([]);
  });
  it('refuses restricted volume types and root', () => {
    const spec = { containers: [c('a', { ...restrictedOk, runAsUser: 0 })], volumes: [{ name: 'h', hostPath: { path: '/x' } }, { name: 'n', nfs: { server: 's', path: '/' } }] };
    expect(formatFailures(evaluatePod('restricted', spec))).toBe(
      'restricted volume types (volumes "h", "n" use restricted volume types "hostPath", "nfs"), runAsUser=0 (container "a" must not set runAsUser=0)',
    );
  });
});

describe('namespace labels', () => {
  it('reads levels and defaults the missing ones', () => {
    expect(namespacePolicy({ 'pod-security.kubernetes.io/enforce': 'restricted' }).enforce).toEqual({ level: 'restricted', version: 'latest' });
    expect(namespacePolicy({}, 'baseline').enforce.level).toBe('baseline');
    expect(namespacePolicy({ 'pod-security.kubernetes.io/warn': 'privileged', 'pod-security.kubernetes.io/warn-version': 'v1.29' }).warn).toEqual({ level: 'privileged', version: 'v1.29' });
  });
  it('names a bad label value', () => {
    expect(policyLabelErrors({ 'pod-security.kubernetes.io/enforce': 'root', 'pod-security.kubernetes.io/audit-version': 'yesterday' })).toEqual([
      { field: 'metadata.labels[pod-security.kubernetes.io/enforce]', message: 'Invalid value: "root": must be one of privileged, baseline, restricted' },
      { field: 'metadata.labels[pod-security.kubernetes.io/audit-version]', message: 'Invalid value: "yesterday": must be "latest" or "v1.x"' },
    ]);
  });
});
