/**
 * PersistentVolume binder and the lab's provisioner: a pending claim binds to the smallest Available PV
 * that fits (storageClassName, access modes, capacity); if none fits and its class's provisioner is
 * `kubelab.io/local`, a PV with `hostPath /var/lib/kubelab/pv/<name>` is created for it (the kubelet maps
 * that path to a Docker volume). Released PVs with reclaimPolicy Delete are deleted. The default
 * StorageClass `standard` is created at start when missing. Keys: `pvc|ns/name` and `pv|name`.
 */
import { isAlreadyExists, isConflict, isNotFound } from '../api/errors.js';
import { quantityValue } from '../api/quantity.js';
import { keyOf, type core } from '../api/types.js';
import type { Controller, ControllerContext, Enqueue } from './context.js';

export const PROVISIONER = 'kubelab.io/local';
export const DEFAULT_CLASS = 'standard';

type PV = core.PersistentVolume;
type PVC = core.PersistentVolumeClaim;

/** The smallest Available volume that satisfies the claim (pure). */
export function findVolume(claim: PVC, volumes: PV[]): PV | undefined {
  const want = quantityValue(claim.spec?.resources?.requests?.storage as string | undefined);
  const cls = claim.spec?.storageClassName ?? '';
  const modes = claim.spec?.accessModes ?? [];
  return volumes
    .filter((pv) => {
      const ref = pv.spec?.claimRef;
      if (ref && !(ref.namespace === claim.metadata?.namespace && ref.name === claim.metadata?.name && (!ref.uid || ref.uid === claim.metadata?.uid))) return false;
      if (!ref && pv.status?.phase && pv.status.phase !== 'Available' && pv.status.phase !== 'Pending') return false;
      if ((pv.spec?.storageClassName ?? '') !== cls) return false;
      if (!modes.every((m) => pv.spec?.accessModes?.includes(m))) return false;
      return quantityValue(pv.spec?.capacity?.storage as string | undefined) >= want;
    })
    .sort((a, b) => quantityValue(a.spec?.capacity?.storage as string | undefined) - quantityValue(b.spec?.capacity?.storage as string | undefined))[0];
}

export class VolumeBinderController implements Controller {
  readonly name = 'persistentvolume-binder';
  private readonly pvcs;
  private readonly pvs;
  private readonly classes;

  constructor(private readonly ctx: ControllerContext) {
    this.pvcs = ctx.informers.get('persistentvolumeclaims');
    this.pvs = ctx.informers.get('persistentvolumes');
    this.classes = ctx.informers.get('storageclasses');
  }

  register(q: Enqueue): void {
    this.pvcs.addHandler({ onAdd: (c) => q.add(`pvc|${keyOf(c)}`), onUpdate: (_o, c) => q.add(`pvc|${keyOf(c)}`) });
    const pv = (v: PV): void => {
      q.add(`pv|${v.metadata?.name}`);
      const ref = v.spec?.claimRef;
      if (ref) q.add(`pvc|${ref.namespace}/${ref.name}`);
    };
    this.pvs.addHandler({ onAdd: pv, onUpdate: (_o, v) => pv(v) });
    this.classes.addHandler({ onAdd: () => this.pvcs.list().forEach((c) => c.status?.phase !== 'Bound' && q.add(`pvc|${keyOf(c)}`)) });
  }

  async afterSync(): Promise<void> {
    if (this.classes.get(DEFAULT_CLASS)) return;
    try {
      await this.ctx.client.create('storageclasses', {
        apiVersion: 'storage.k8s.io/v1',
        kind: 'StorageClass',
        metadata: { name: DEFAULT_CLASS, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
        provisioner: PROVISIONER,
        reclaimPolicy: 'Delete',
        volumeBindingMode: 'Immediate',
      });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }

  async reconcile(k: string): Promise<void> {
    const [kind, key] = k.split('|');
    if (kind === 'pv') return this.syncVolume(key);
    return this.syncClaim(key);
  }

  private async syncClaim(key: string): Promise<void> {
    const claim = this.pvcs.get(key);
    if (!claim || claim.metadata?.deletionTimestamp) return;
    const { client } = this.ctx;
    if (claim.status?.phase === 'Bound' && claim.spec?.volumeName && this.pvs.get(claim.spec.volumeName)) return;
    let pv: PV | undefined = claim.spec?.volumeName ? this.pvs.get(claim.spec.volumeName) : findVolume(claim, this.pvs.list());
    if (!pv) {
      const cls = this.classes.get(claim.spec?.storageClassName ?? '');
      if (cls?.provisioner !== PROVISIONER) return;
      const name = `pvc-${claim.metadata?.uid}`;
      try {
        pv = await client.create('persistentvolumes', {
          apiVersion: 'v1',
          kind: 'PersistentVolume',
          metadata: { name, annotations: { 'pv.kubernetes.io/provisioned-by': PROVISIONER } },
          spec: {
            capacity: { storage: String(claim.spec?.resources?.requests?.storage ?? '1Gi') },
            accessModes: claim.spec?.accessModes,
            storageClassName: cls.metadata?.name,
            persistentVolumeReclaimPolicy: (cls.reclaimPolicy as 'Delete' | 'Retain' | undefined) ?? 'Delete',
            volumeMode: claim.spec?.volumeMode ?? 'Filesystem',
            hostPath: { path: `/var/lib/kubelab/pv/${name}`, type: 'DirectoryOrCreate' },
            claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: claim.metadata?.namespace, name: claim.metadata?.name, uid: claim.metadata?.uid },
          },
        });
        this.ctx.recorder.event(claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${name}`);
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        pv = await client.get('persistentvolumes', name);
      }
    }
    // Bind the volume to the claim, then the claim to the volume.
    const pvName = pv.metadata?.name ?? '';
    const cur = await client.get('persistentvolumes', pvName);
    const ref = { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: claim.metadata?.namespace, name: claim.metadata?.name, uid: claim.metadata?.uid };
    if (cur.spec?.claimRef?.uid !== claim.metadata?.uid) {
      if (cur.spec?.claimRef && cur.spec.claimRef.uid && cur.spec.claimRef.uid !== claim.metadata?.uid) throw new Error(`volume ${pvName} was taken by another claim`);
      await client.update('persistentvolumes', { ...cur, spec: { ...cur.spec, claimRef: ref } });
    }
    const boundPv = await client.get('persistentvolumes', pvName);
    if (boundPv.status?.phase !== 'Bound') await client.updateStatus('persistentvolumes', { ...boundPv, status: { phase: 'Bound' } });
    const fresh = await client.get('persistentvolumeclaims', claim.metadata?.name ?? '', { namespace: claim.metadata?.namespace });
    if (fresh.spec?.volumeName !== pvName || fresh.metadata?.annotations?.['pv.kubernetes.io/bind-completed'] !== 'yes') {
      await client.update('persistentvolumeclaims', {
        ...fresh,
        metadata: { ...fresh.metadata, annotations: { ...(fresh.metadata?.annotations ?? {}), 'pv.kubernetes.io/bind-completed': 'yes' } },
        spec: { ...fresh.spec, volumeName: pvName },
      });
    }
    const again = await client.get('persistentvolumeclaims', claim.metadata?.name ?? '', { namespace: claim.metadata?.namespace });
    if (again.status?.phase !== 'Bound') {
      await client.updateStatus('persistentvolumeclaims', {
        ...again,
        status: { phase: 'Bound', accessModes: boundPv.spec?.accessModes, capacity: boundPv.spec?.capacity },
      });
      this.ctx.log.info({ claim: key, volume: pvName }, 'claim bound');
    }
  }

  private async syncVolume(name: string): Promise<void> {
    const pv = this.pvs.get(name);
    if (!pv || pv.metadata?.deletionTimestamp) return;
    const ref = pv.spec?.claimRef;
    const { client } = this.ctx;
    if (!ref) {
      if (pv.status?.phase !== 'Available') await client.updateStatus('persistentvolumes', { ...pv, status: { phase: 'Available' } }).catch(ignoreConflict);
      return;
    }
    let claimGone = false;
    try {
      const c = await client.get('persistentvolumeclaims', ref.name ?? '', { namespace: ref.namespace });
      claimGone = Boolean(ref.uid) && c.metadata?.uid !== ref.uid;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      claimGone = true;
    }
    if (!claimGone) return;
    if (pv.spec?.persistentVolumeReclaimPolicy === 'Delete') {
      try {
        await client.delete('persistentvolumes', name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    } else if (pv.status?.phase !== 'Released') {
      await client.updateStatus('persistentvolumes', { ...pv, status: { phase: 'Released' } }).catch(ignoreConflict);
    }
  }
}

function ignoreConflict(err: unknown): PV {
  if (isConflict(err) || isNotFound(err)) return {};
  throw err;
}
