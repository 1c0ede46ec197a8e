import { describe, expect, it } from 'vitest';
import { ApiError, bindingRefusal, bindingRefused, conflict, notFound } from './errors.js';

describe('binding refusals', () => {
  it('survive the wire (Status) typed, with the Kubernetes message', () => {
    const sent = bindingRefused('web-1', 'PodAlreadyAssigned', 'pod web-1 is already assigned to node "n1"');
    const received = ApiError.fromStatus(JSON.parse(JSON.stringify(sent.toStatus())) as ReturnType<ApiError['toStatus']>);
    expect(received.reason).toBe('Conflict');
    expect(received.message).toBe('Operation cannot be fulfilled on pods "web-1": pod web-1 is already assigned to node "n1"');
    expect(bindingRefusal(received)).toBe('PodAlreadyAssigned');
  });

  it('are not read into other failures, whatever their message says', () => {
    expect(bindingRefusal(conflict('pods', 'web-1', 'the object has been modified; UID already assigned'))).toBeUndefined();
    expect(bindingRefusal(notFound('pods', 'web-1'))).toBeUndefined();
    expect(bindingRefusal(new Error('PodAlreadyAssigned'))).toBeUndefined();
  });
});
