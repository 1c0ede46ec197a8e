import { describe, expect, it } from 'vitest';
import { exposedService } from './expose.js';

const deploy = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' } },
  spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 8080, name: 'http' }] }] } } },
};

describe('kubelab expose', () => {
  it('uses the workload selector, --port and --target-port', () => {
    const s = exposedService('deployments', deploy, { port: '80', targetPort: 'http', type: 'NodePort' });
    expect(s.metadata?.name).toBe('web');
    expect(s.metadata?.namespace).toBe('shop');
    expect(s.spec).toEqual({ type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, protocol: 'TCP', targetPort: 'http' }] });
  });

  it('falls back to the container ports, and to pod labels for pods', () => {
    expect(exposedService('deployments', deploy, {}).spec?.ports).toEqual([{ port: 8080, protocol: 'TCP', targetPort: 8080 }]);
    const pod = { metadata: { name: 'p', labels: { run: 'p' } }, spec: { containers: [] } };
    expect(exposedService('pods', pod, { port: '80', name: 'p-svc' }).spec?.selector).toEqual({ run: 'p' });
  });

  it('rejects a missing port, a bad type and set-based selectors with a message naming the fix', () => {
    const noPorts = { ...deploy, spec: { ...deploy.spec, template: { spec: { containers: [{ name: 'c', image: 'x' }] } } } };
    expect(() => exposedService('deployments', noPorts, {})).toThrow(/--port/);
    expect(() => exposedService('deployments', deploy, { port: '80', type: 'External' })).toThrow(/--type/);
    const expr = { ...deploy, spec: { ...deploy.spec, selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] } } };
    expect(() => exposedService('deployments', expr, { port: '80' })).toThrow(/--selector/);
  });
});
