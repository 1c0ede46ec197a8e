import { describe, expect, it } from 'vitest';
import { applyPatchBody, fieldsOf, fromFieldsV1, planApply, toFieldsV1 } from './apply.js';

const now = new Date('2026-01-02T03:04:05.678Z');
const cm = (data: Record<string, string>, managedFields?: unknown[]): Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'c', ...(managedFields ? { managedFields } : {}) },
  data,
});

describe('server-side apply ownership', () => {
  it('FieldsV1 round-trips the leaf fields of a configuration, without identity fields', () => {
    const fields = fieldsOf({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labels: { a: 'b' } }, data: { x: '1' }, spec: { list: [1, 2] } });
    expect(fields).toEqual([['metadata', 'labels', 'a'], ['data', 'x'], ['spec', 'list']]);
    expect(toFieldsV1(fields)).toEqual({ 'f:metadata': { 'f:labels': { 'f:a': {} } }, 'f:data': { 'f:x': {} }, 'f:spec': { 'f:list': {} } });
    expect(fromFieldsV1(toFieldsV1(fields))).toEqual(fields);
  });

  it('records the applier as the owner of its fields on create', () => {
    const plan = planApply(undefined, cm({ k: 'v' }), 'a', false, 'v1', now);
    expect(plan.managedFields).toEqual([{ manager: 'a', operation: 'Apply', apiVersion: 'v1', time: '2026-01-02T03:04:05Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:k': {} } } }]);
  });

  it("refuses to change another manager's field, naming both; force moves the field over", () => {
    const live = cm({ k: 'v' }, planApply(undefined, cm({ k: 'v' }), 'a', false, 'v1', now).managedFields);
    expect(() => planApply(live, cm({ k: 'w' }), 'b', false, 'v1', now)).toThrow('Apply failed with 1 conflict: conflict with "a": .data.k');
    // The same value is shared ownership, not a conflict.
    expect(planApply(live, cm({ k: 'v' }), 'b', false, 'v1', now).managedFields.map((e) => e.manager)).toEqual(['a', 'b']);
    const forced = planApply(live, cm({ k: 'w' }), 'b', true, 'v1', now);
    expect(forced.managedFields.map((e) => e.manager)).toEqual(['b']);
  });

  it('removes a field the applier dropped unless someone else owns it', () => {
    const first = planApply(undefined, cm({ k: 'v', gone: '1' }), 'a', false, 'v1', now);
    const live = cm({ k: 'v', gone: '1' }, first.managedFields);
    const plan = planApply(live, cm({ k: 'v' }), 'a', false, 'v1', now);
    expect(plan.removed).toEqual([['data', 'gone']]);
    expect(applyPatchBody(cm({ k: 'v' }), plan).data).toEqual({ k: 'v', gone: null });
  });
});
