/** coordination.k8s.io: Lease (node heartbeats, leader election). */
import { PRINTERS } from '../../api/tables.js';
import type { Strategy } from '../strategy.js';
import { validatePathSegmentName } from '../validation.js';

export const leases: Strategy = { validateName: validatePathSegmentName, columns: PRINTERS.leases };
