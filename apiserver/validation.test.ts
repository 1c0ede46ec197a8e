import { describe, expect, it } from 'vitest';
import { resourceInfo } from '../api/resources.js';
import type { core } from '../api/types.js';
import { applyDefaults, validateObject } from './strategies/index.js';
import { base64Error, validateEphemeralContainersUpdate, validatePodCreate } from './validation.js';

const pods = resourceInfo('pods');
const deployments = resourceInfo('deployments');
if (!pods || !deployments) throw new Error('resources not served');

function pod(ephemeralContainers?: core.EphemeralContainer[]): core.Pod {
  const p: core.Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      initContainers: [{ name: 'setup', image: 'kubelab/busybox' }],
      containers: [{ name: 'app', image: 'kubelab/busybox' }],
      ...(ephemeralContainers ? { ephemeralContainers } : {}),
    },
  };
  applyDefaults('pods', p as never);
  return p;
}

const debug = (extra: Partial<core.EphemeralContainer> = {}): core.EphemeralContainer => ({ name: 'debugger', image: 'kubelab/busybox', stdin: true, tty: true, ...extra });
const fields = (p: core.Pod): string[] => validateObject(pods, p as never).map((c) => `${c.field}: ${c.message}`);

describe('ephemeral containers', () => {
  it('accepts what kubectl debug sends (empty resources included) and defaults it like a container', () => {
    const p = pod([debug({ resources: {}, terminationMessagePolicy: 'File', targetContainerName: 'app' })]);
    expect(fields(p)).toEqual([]);
    expect(p.spec?.ephemeralContainers?.[0]).toMatchObject({ imagePullPolicy: 'Always', terminationMessagePath: '/dev/termination-log' });
  });

  it('forbids ports, resources, probes and lifecycle, naming each field', () => {
    const p = pod([
      debug({
        ports: [{ containerPort: 80 }],
        resources: { limits: { cpu: '100m' } },
        readinessProbe: { exec: { command: ['true'] } },
        lifecycle: { preStop: { exec: { command: ['true'] } } },
      }),
    ]);
    expect(fields(p)).toEqual([
      'spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container',
      'spec.ephemeralContainers[0].resources: Forbidden: cannot be set for an Ephemeral Container',
      'spec.ephemeralContainers[0].readinessProbe: Forbidden: cannot be set for an Ephemeral Container',
      'spec.ephemeralContainers[0].lifecycle: Forbidden: cannot be set for an Ephemeral Container',
    ]);
  });

  it('wants an image, a name unique among all containers, a known target and no subPath mounts', () => {
    const p = pod([
      { name: 'app', image: '' },
      debug({ name: 'setup', targetContainerName: 'nope' }),
      debug({ name: 'd2', volumeMounts: [{ name: 'v', mountPath: '/v', subPath: 'x' }] }),
    ]);
    p.spec = { ...(p.spec as core.PodSpec), volumes: [{ name: 'v', emptyDir: {} }] };
    expect(fields(p)).toEqual([
      'spec.ephemeralContainers[0].name: Duplicate value: "app"',
      'spec.ephemeralContainers[0].image: Required value',
      'spec.ephemeralContainers[1].name: Duplicate value: "setup"',
      'spec.ephemeralContainers[1].targetContainerName: Not found: "nope"',
      'spec.ephemeralContainers[2].volumeMounts[0].subPath: Forbidden: cannot be set for an Ephemeral Container',
    ]);
  });

  it('cannot be set when a pod is created, nor in a pod template', () => {
    expect(validatePodCreate(pod([debug()]) as never).map((c) => `${c.field}: ${c.message}`)).toEqual(['spec.ephemeralContainers: Forbidden: cannot be set on create']);
    expect(validatePodCreate(pod() as never)).toEqual([]);
    const template = pod([debug()]);
    const deploy = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: template.spec } },
    };
    expect(validateObject(deployments, deploy).map((c) => `${c.field}: ${c.message}`)).toEqual([
      'spec.template.spec.ephemeralContainers: Forbidden: ephemeral containers not allowed in pod template',
    ]);
  });

  it('may be added, never removed or changed; static pods take none', () => {
    const one = pod([debug()]);
    const two = pod([debug(), debug({ name: 'second' })]);
    expect(validateEphemeralContainersUpdate(two, one, false)).toEqual([]);
    expect(validateEphemeralContainersUpdate(pod([]), one, false).map((c) => `${c.field}: ${c.message}`)).toEqual([
      'spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger" may not be removed',
    ]);
    const changed = pod([debug({ name: 'second' }), debug({ image: 'kubelab/pause' })]);
    expect(validateEphemeralContainersUpdate(changed, one, false).map((c) => `${c.field}: ${c.message}`)).toEqual([
      'spec.ephemeralContainers[1]: Forbidden: existing ephemeral containers "debugger" may not be changed',
    ]);
    expect(validateEphemeralContainersUpdate(two, one, true).map((c) => c.message)).toEqual(['Forbidden: static pods do not support ephemeral containers']);
  });
});

describe('statefulset templates', () => {
  const sts = resourceInfo('statefulsets');
  if (!sts) throw new Error('statefulsets not served');
  const set = (mount: string): Record<string, unknown> => ({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db', namespace: 'default' },
    spec: {
      serviceName: 'db',
      selector: { matchLabels: { app: 'db' } },
      template: {
        metadata: { labels: { app: 'db' } },
        spec: { containers: [{ name: 'db', image: 'kubelab/busybox', volumeMounts: [{ name: mount, mountPath: '/data' }] }] },
      },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  });

  it('lets containers mount a volumeClaimTemplate by name, and still refuses an unknown volume', () => {
    expect(validateObject(sts, set('data') as never)).toEqual([]);
    expect(validateObject(sts, set('nope') as never).map((c) => `${c.field}: ${c.message}`)).toEqual([
      'spec.template.spec.containers[0].volumeMounts[0].name: Not found: "nope"',
    ]);
  });
});

describe('base64 (Secret data, ConfigMap binaryData)', () => {
  it.each([
    ['', -1],
    ['aGVsbG8=', -1],
    ['aGVsbA==', -1],
    ['aGVs', -1],
    ['aGVs\nbG8=', -1],
    ['aGVsbG8', 7],
    ['aGVsbG8==', 8],
    ['aGVsbA=', 7],
    ['a===', 1],
    ['aGVs!G8=', 4],
    ['aGVsbA==aGVs', 8],
    ['hello world', 5],
  ])('%j → %i', (v, at) => {
    expect(base64Error(v)).toBe(at);
  });

  it('accepts what Buffer encodes, for any bytes', () => {
    for (let len = 0; len < 40; len++) expect(base64Error(Buffer.from(Array.from({ length: len }, (_, i) => (i * 37) % 256)).toString('base64'))).toBe(-1);
  });
});

describe('secrets, endpoints and endpoint slices', () => {
  const secrets = resourceInfo('secrets');
  const endpoints = resourceInfo('endpoints');
  const slices = resourceInfo('endpointslices');
  if (!secrets || !endpoints || !slices) throw new Error('resources not served');
  const msgs = (info: typeof secrets, obj: unknown): string[] => validateObject(info, obj as never).map((c) => `${c.field}: ${c.message}`);

  it('merges stringData into data as base64 and drops it', () => {
    const s = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { a: 'b2xk', keep: 'eA==' }, stringData: { a: 'new', b: 'héllo' } };
    applyDefaults('secrets', s as never);
    expect(s).toEqual({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, type: 'Opaque', data: { a: 'bmV3', keep: 'eA==', b: Buffer.from('héllo').toString('base64') } });
  });

  it('names the data key whose value is not base64', () => {
    expect(msgs(secrets, { metadata: { name: 's' }, data: { good: 'eA==', bad: 'not base64!' } })).toEqual(['data[bad]: Invalid value: "<redacted>": illegal base64 data at input byte 3']);
  });

  it('rejects Endpoints addresses that are not IPs', () => {
    expect(
      msgs(endpoints, { metadata: { name: 'e' }, subsets: [{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.1; rm -rf /' }], notReadyAddresses: [{ ip: 'fd00::1' }, { ip: '300.1.1.1' }] }] }),
    ).toEqual([
      'subsets[0].addresses[1].ip: Invalid value: "10.0.0.1; rm -rf /": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
      'subsets[0].notReadyAddresses[1].ip: Invalid value: "300.1.1.1": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    ]);
  });

  it('checks EndpointSlice addresses against the addressType', () => {
    expect(msgs(slices, { metadata: { name: 'e' }, addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'] }, { addresses: ['fd00::1'] }, { addresses: [] }] })).toEqual([
      'endpoints[1].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address',
      'endpoints[2].addresses: Required value: must contain at least 1 address',
    ]);
    expect(msgs(slices, { metadata: { name: 'e' }, addressType: 'IPv6', endpoints: [{ addresses: ['fd00::1', '10.0.0.1'] }] })).toEqual(['endpoints[0].addresses[1]: Invalid value: "10.0.0.1": must be a valid IPv6 address']);
    expect(msgs(slices, { metadata: { name: 'e' }, addressType: 'IPv5', endpoints: [] })).toEqual(['addressType: Unsupported value: "IPv5": supported values: "FQDN", "IPv4", "IPv6"']);
  });
});

describe('cronjobs', () => {
  const cronjobs = resourceInfo('cronjobs');
  if (!cronjobs) throw new Error('cronjobs not served');
  const cronjob = (schedule: string, timeZone?: string) => {
    const cj = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'tick', namespace: 'default' },
      spec: { schedule, ...(timeZone ? { timeZone } : {}), jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'kubelab/busybox' }] } } } } },
    };
    applyDefaults('cronjobs', cj as never);
    return validateObject(cronjobs, cj as never).map((c) => `${c.field}: ${c.message}`);
  };

  it('stores only schedules the controller can run (the fuzz suite stored "* * * * * *", which the controller refused forever)', () => {
    expect(cronjob('*/5 * * * *', 'Europe/Berlin')).toEqual([]);
    expect(cronjob('* * * * * *')).toEqual(['spec.schedule: Invalid value: "* * * * * *": expected exactly 5 fields, found 6: * * * * * *']);
    expect(cronjob('0 0 * * *', 'Mars/Olympus')).toEqual(['spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus']);
  });
});
