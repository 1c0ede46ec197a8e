/**
 * Service ClusterIP and NodePort allocation. Each allocated value is a key in etcd created with
 * create-if-absent, so two concurrent Service creates never get the same address or port.
 */
import { ApiError, invalid } from '../api/errors.js';
import type { Storage } from './storage.js';

// The IPv4 helpers are shared with kube-proxy and DNS: they live in api/cidr.ts.
export { ipToNumber, ipToString, parseCidr } from '../api/cidr.js';
import { ipToNumber, ipToString, parseCidr } from '../api/cidr.js';

export class Allocators {
  private readonly range: { base: number; size: number };

  constructor(
    private readonly storage: Storage,
    readonly serviceCidr: string,
    readonly nodePortRange: [number, number] = [30000, 32767],
  ) {
    this.range = parseCidr(serviceCidr);
  }

  private ipKey(ip: string): string {
    return `${this.storage.prefix}/ranges/serviceips/${ip}`;
  }

  private portKey(port: number): string {
    return `${this.storage.prefix}/ranges/servicenodeports/${port}`;
  }

  /** The well-known address of the kubernetes Service (first usable) and of cluster DNS (tenth). */
  wellKnownIp(offset: number): string {
    return ipToString(this.range.base + offset);
  }

  async allocateIp(owner: string, requested?: string): Promise<string> {
    if (requested) {
      const n = ipToNumber(requested);
      if (n === undefined || n <= this.range.base || n >= this.range.base + this.range.size - 1)
        throw invalid('Service', owner, [{ field: 'spec.clusterIPs', message: `Invalid value: ["${requested}"]: failed to allocate IP ${requested}: provided IP is not in the valid range. The range of valid IPs is ${this.serviceCidr}`, reason: 'FieldValueInvalid' }]);
      if ((await this.storage.create(this.ipKey(requested), { kind: 'IPAddress', metadata: { name: owner } })) === undefined)
        throw invalid('Service', owner, [{ field: 'spec.clusterIPs', message: `Invalid value: ["${requested}"]: failed to allocate IP ${requested}: provided IP is already allocated`, reason: 'FieldValueInvalid' }]);
      return requested;
    }
    // Offsets 1..15 are kept for well-known Services (kubernetes, kube-dns); pick at random above them.
    const usable = this.range.size - 2 - 16;
    for (let attempt = 0; attempt < 200; attempt++) {
      const ip = ipToString(this.range.base + 16 + Math.floor(Math.random() * usable));
      if ((await this.storage.create(this.ipKey(ip), { kind: 'IPAddress', metadata: { name: owner } })) !== undefined) return ip;
    }
    throw new ApiError('InternalError', `failed to allocate a serviceIP: range ${this.serviceCidr} is full`);
  }

  async releaseIp(ip: string | undefined): Promise<void> {
    if (!ip || ip === 'None') return;
    await this.storage.etcd.delete().key(this.ipKey(ip)).exec().catch(() => undefined);
  }

  async allocatePort(owner: string, field: string, requested?: number): Promise<number> {
    const [lo, hi] = this.nodePortRange;
    if (requested) {
      if ((await this.storage.create(this.portKey(requested), { kind: 'NodePort', metadata: { name: owner } })) === undefined)
        throw invalid('Service', owner, [{ field, message: `Invalid value: ${requested}: provided port is already allocated`, reason: 'FieldValueInvalid' }]);
      return requested;
    }
    for (let attempt = 0; attempt < 200; attempt++) {
      const port = lo + Math.floor(Math.random() * (hi - lo + 1));
      if ((await this.storage.create(this.portKey(port), { kind: 'NodePort', metadata: { name: owner } })) !== undefined) return port;
    }
    throw new ApiError('InternalError', 'failed to allocate a nodePort: range is full');
  }

  async releasePort(port: number | undefined): Promise<void> {
    if (!port) return;
    await this.storage.etcd.delete().key(this.portKey(port)).exec().catch(() => undefined);
  }
}
