import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { statusHeader } from './grpc.js';

describe('statusHeader (the Status a gRPC error carries in its k8s-status header)', () => {
  it('is printable ASCII that parses back to the same Status, whatever the message holds', () => {
    const status = { kind: 'Status', message: 'apiVersion "١٢" \u0000 é 😀 does not match', code: 400, details: { causes: [{ field: 'x', message: 'ü' }] } };
    const header = statusHeader(status);
    expect(header).toMatch(/^[\x20-\x7e]*$/);
    expect(JSON.parse(header)).toEqual(status);
    // grpc-js accepts it (it throws on a value with other characters, which left the call unanswered).
    expect(() => new grpc.Metadata().set('k8s-status', header)).not.toThrow();
  });

  it('stays under the metadata limit for a Status with thousands of causes', () => {
    const causes = Array.from({ length: 5000 }, (_, i) => ({ field: `spec.containers[${i}].name`, message: 'Invalid value' }));
    const header = statusHeader({ kind: 'Status', message: 'm'.repeat(100_000), code: 422, details: { name: 'x', causes } });
    expect(header.length).toBeLessThanOrEqual(6 * 1024);
    const back = JSON.parse(header) as { code: number; details?: { name?: string } };
    expect(back.code).toBe(422);
    expect(back.details?.name).toBe('x');
  });
});
