/** storage.k8s.io: StorageClass. */
import { PRINTERS } from '../../api/tables.js';
import type { Strategy } from '../strategy.js';

export const storageclasses: Strategy = {
  defaults(obj) {
    obj.reclaimPolicy ??= 'Delete';
    obj.volumeBindingMode ??= 'Immediate';
  },
  columns: PRINTERS.storageclasses,
};
