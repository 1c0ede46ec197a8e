/** discovery.k8s.io: EndpointSlice. */
import { isIPv4, isIPv6 } from 'node:net';
import { PRINTERS } from '../../api/tables.js';
import type { Strategy } from '../strategy.js';
import { add, DNS1123_SUBDOMAIN, type Causes } from '../validation.js';

export const endpointslices: Strategy = {
  validate(obj) {
    const c: Causes = [];
    const type = obj.addressType;
    if (type !== 'IPv4' && type !== 'IPv6' && type !== 'FQDN') add(c, 'addressType', `Unsupported value: ${JSON.stringify(type)}: supported values: "FQDN", "IPv4", "IPv6"`, 'FieldValueNotSupported');
    const valid = type === 'IPv6' ? isIPv6 : type === 'FQDN' ? (a: string) => a.length <= 253 && DNS1123_SUBDOMAIN.test(a) : isIPv4;
    const what = type === 'IPv6' ? 'a valid IPv6 address' : type === 'FQDN' ? 'a valid FQDN' : 'a valid IPv4 address';
    ((obj.endpoints ?? []) as { addresses?: string[] }[]).forEach((e, i) => {
      if (!e.addresses?.length) add(c, `endpoints[${i}].addresses`, 'Required value: must contain at least 1 address', 'FieldValueRequired');
      (e.addresses ?? []).forEach((a, j) => {
        if (!valid(a)) add(c, `endpoints[${i}].addresses[${j}]`, `Invalid value: ${JSON.stringify(a)}: must be ${what}`);
      });
    });
    return c;
  },
  columns: PRINTERS.endpointslices,
};
