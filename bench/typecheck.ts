/**
 * The cost of typed decoding on the create path: 10,000 checks of a typical Deployment against its
 * compiled schema (apiserver/schema.ts), next to JSON.stringify of the same object for scale (the
 * registry serialises every object at least twice per write). Run: `node dist/bench/typecheck.js`.
 */
import { decodeObject } from '../apiserver/schema.js';
import { resourceInfo } from '../api/resources.js';

const N = 10_000;
const ROUNDS = 5;

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', labels: { app: 'web', tier: 'frontend' }, annotations: { 'deployment.kubernetes.io/revision': '1' } },
  spec: {
    replicas: 3,
    revisionHistoryLimit: 10,
    progressDeadlineSeconds: 600,
    selector: { matchLabels: { app: 'web' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        restartPolicy: 'Always',
        terminationGracePeriodSeconds: 30,
        dnsPolicy: 'ClusterFirst',
        containers: [
          {
            name: 'web',
            image: 'nginx:1.25',
            imagePullPolicy: 'IfNotPresent',
            ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }],
            env: [{ name: 'A', value: '1' }, { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
            resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
            readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 5 },
            volumeMounts: [{ name: 'cfg', mountPath: '/etc/cfg' }],
          },
        ],
        volumes: [{ name: 'cfg', configMap: { name: 'web-cfg' } }],
      },
    },
  },
};

const micros = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e3;

const info = resourceInfo('deployments');
if (!info) throw new Error('deployments are not served');
let t = process.hrtime.bigint();
decodeObject(info, structuredClone(deployment));
console.log(`first check (loads definitions.json, compiles the Deployment tree): ${(micros(t) / 1000).toFixed(1)} ms`);
const checks: number[] = [];
const stringify: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const copies = Array.from({ length: N }, () => structuredClone(deployment));
  t = process.hrtime.bigint();
  for (const c of copies) if (decodeObject(info, c).mismatches.length) throw new Error('a well-typed Deployment was refused');
  checks.push(micros(t) / N);
  t = process.hrtime.bigint();
  for (const c of copies) JSON.stringify(c);
  stringify.push(micros(t) / N);
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`typed decoding: median ${median(checks).toFixed(2)} µs/check over ${ROUNDS} rounds of ${N} (rounds: ${checks.map((x) => x.toFixed(1)).join(', ')})`);
console.log(`JSON.stringify of the same object: median ${median(stringify).toFixed(2)} µs`);
