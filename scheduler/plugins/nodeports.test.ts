import { describe, expect, it } from 'vitest';
import type { core } from '../../api/types.js';
import { makePod, nodeInfo, podInfo } from '../testing.js';
import { ERR_NODE_PORTS, nodePorts } from './nodeports.js';

const withPort = (name: string, hostPort: number, hostIP?: string, protocol: 'TCP' | 'UDP' = 'TCP'): Partial<core.PodSpec> => ({
  containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 80, hostPort, protocol, ...(hostIP ? { hostIP } : {}) }] }],
});

describe('NodePorts', () => {
  it('rejects a node where the host port is taken', () => {
    const node = nodeInfo({ name: 'n' }, [makePod('a', withPort('a', 8080))]);
    expect(nodePorts(podInfo('p', withPort('p', 8080)), node)).toEqual({ code: 'Unschedulable', reasons: [ERR_NODE_PORTS] });
  });
  it('allows another port, another protocol, or another specific host IP', () => {
    const node = nodeInfo({ name: 'n' }, [makePod('a', withPort('a', 8080, '10.0.0.1'))]);
    expect(nodePorts(podInfo('p', withPort('p', 8081)), node).code).toBe('Success');
    expect(nodePorts(podInfo('p', withPort('p', 8080, undefined, 'UDP')), node).code).toBe('Success');
    expect(nodePorts(podInfo('p', withPort('p', 8080, '10.0.0.2')), node).code).toBe('Success');
    expect(nodePorts(podInfo('p', withPort('p', 8080)), node).code).toBe('Unschedulable');
  });
});
