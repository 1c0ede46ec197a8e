#!/usr/bin/env bash
# Removes the test clusters whose test process is gone (`npm test` runs it before vitest).
#
# A run killed mid-way (Ctrl-C twice, a CI timeout, a session that ends) leaves its clusters, and Docker
# starts them again with itself (their restart policy): they would load every later run. The networks of a
# test cluster name their owner (io.kubelab.owner=<pid>:<start time>, test/cluster/index.ts). A cluster whose
# owner still runs (another test run) and labs without an owner (the compose lab) are left alone.
set -euo pipefail
say() { printf '[test] %s\n' "$*" >&2; }
main() {
  local net owner cluster pid start ids
  for net in $(docker network ls -q --filter label=io.kubelab.owner); do
    owner=$(docker network inspect -f '{{index .Labels "io.kubelab.owner"}}' "$net" 2>/dev/null) || continue
    cluster=$(docker network inspect -f '{{index .Labels "io.kubelab.cluster"}}' "$net" 2>/dev/null) || continue
    [ -n "$cluster" ] || continue
    pid=${owner%%:*}
    start=${owner#*:}
    if [ -r "/proc/$pid/stat" ] && [ "$(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $20}')" = "$start" ]; then continue; fi
    ids=$(docker ps -aq --filter "label=io.kubelab.cluster=$cluster")
    say "removing test cluster $cluster left by an earlier run (its process $pid is gone): $(printf '%s' "$ids" | grep -c . || true) container(s)"
    # shellcheck disable=SC2086
    [ -z "$ids" ] || docker rm -f -v $ids >/dev/null 2>&1 || true
    for n in $(docker network ls -q --filter "label=io.kubelab.cluster=$cluster"); do docker network rm "$n" >/dev/null 2>&1 || true; done
    for v in $(docker volume ls -q --filter "label=io.kubelab.cluster=$cluster"); do docker volume rm "$v" >/dev/null 2>&1 || true; done
  done
}
main
