import { describe, expect, it } from 'vitest';
import { Diagnosis, fitErrorMessage, preemptionFitMessage } from './diagnosis.js';

describe('fitErrorMessage', () => {
  it('counts reasons across nodes and sorts them as kube-scheduler does', () => {
    const d = new Diagnosis();
    d.add(['Insufficient cpu']);
    d.add(['node(s) were unschedulable']);
    d.add(['Insufficient cpu']);
    expect(fitErrorMessage(3, d)).toBe(
      '0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
    );
  });

  it('lists every reason of a node that failed for several resources', () => {
    const d = new Diagnosis();
    d.add(['Insufficient cpu', 'Insufficient memory']);
    expect(fitErrorMessage(1, d)).toBe(
      '0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.',
    );
  });

  it('appends what preemption said, and nothing after a successful preemption', () => {
    const d = new Diagnosis();
    d.add(['Insufficient cpu']);
    d.add(['Insufficient cpu']);
    d.add(['Insufficient cpu']);
    const victims = new Diagnosis();
    victims.reasons.set('No preemption victims found for incoming pod', 3);
    expect(fitErrorMessage(3, d, preemptionFitMessage(3, victims))).toBe(
      '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
    );
    expect(fitErrorMessage(3, d, 'preemption: not eligible due to preemptionPolicy=Never.')).toBe(
      '0/3 nodes are available: 3 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.',
    );
    expect(fitErrorMessage(3, d, '')).toBe('0/3 nodes are available: 3 Insufficient cpu.');
  });

  it('says so when the cluster has no nodes', () => {
    expect(fitErrorMessage(0, new Diagnosis())).toBe('no nodes available to schedule pods');
  });
});
