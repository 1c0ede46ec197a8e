/**
 * The compose lab's `reaper` service (the image's `reaper` component, cmd/reaper.ts): idles, and on SIGTERM
 * removes every container of the cluster that compose does not manage (then the pods' volumes) — the pod containers the
 * kubelets created and workers added with `kubelab node add` — so `docker compose down -v` (v1 and
 * v2) can remove the network afterwards. Every worker `depends_on` the reaper, so compose stops the
 * workers (kubelets) first and nothing recreates pods while the reaper works.
 */
import Docker from 'dockerode';
import { createLogger } from '../../component-base/log.js';
import { CLUSTER_LABEL, COMPONENT_LABEL, COMPOSE_SERVICE_LABEL, POD_UID_LABEL } from './spec.js';
import { killAll, listByLabels, nameOf, removeAll } from './docker.js';

/** Containers of `cluster` that compose did not create (pods, added workers). */
export async function unmanagedContainers(docker: Docker, cluster: string): Promise<Docker.ContainerInfo[]> {
  const list = await listByLabels(docker, { [CLUSTER_LABEL]: cluster });
  return list.filter((c) => c.Labels[COMPOSE_SERVICE_LABEL] === undefined);
}

export async function reap(docker: Docker, cluster: string): Promise<string[]> {
  const removed: string[] = [];
  // Added workers first (their kubelets would restart pods), then everything else, twice.
  const workers = (await unmanagedContainers(docker, cluster)).filter((c) => c.Labels[COMPONENT_LABEL] === 'node');
  await killAll(docker, workers.map((c) => c.Id));
  for (let pass = 0; pass < 2; pass++) {
    const list = await unmanagedContainers(docker, cluster);
    await removeAll(docker, list.map((c) => c.Id));
    removed.push(...list.map(nameOf));
  }
  // Then the pods' volumes (emptyDir, projected ServiceAccount tokens): compose's `down -v` removes only the
  // volumes it declared, and a pod volume left behind would keep the lab's label on the host.
  const volumes = (await docker.listVolumes({ filters: JSON.stringify({ label: [`${CLUSTER_LABEL}=${cluster}`, POD_UID_LABEL] }) })).Volumes ?? [];
  for (const v of volumes) {
    await docker
      .getVolume(v.Name)
      .remove({ force: true })
      .catch((err: unknown) => {
        if ((err as { statusCode?: number }).statusCode !== 404) throw err;
      });
    removed.push(`volume ${v.Name}`);
  }
  return removed;
}

/** Idles until SIGTERM or SIGINT, then removes what compose does not manage of `cluster` and exits. */
export async function waitAndReap(cluster: string): Promise<void> {
  const log = createLogger('reaper');
  const docker = new Docker();
  log.info({ cluster }, 'waiting for SIGTERM to remove the pod containers');
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const onSignal = (signal: NodeJS.Signals): void => {
    log.info({ signal }, 'removing containers compose does not manage');
    reap(docker, cluster).then(
      (removed) => {
        log.info({ removed: removed.length, containers: removed }, 'removed');
        clearInterval(keepAlive);
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err: err instanceof Error ? err.message : String(err) }, 'reaping failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  await Promise.resolve();
}
