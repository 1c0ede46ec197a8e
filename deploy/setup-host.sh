#!/usr/bin/env bash
# Host setup for kubelab: installs and starts what the lab needs on a Debian/Ubuntu host.
# Idempotent. On a host where Docker already runs (Docker Desktop, a laptop) it only checks.
# Never touches a running daemon's configuration.
set -euo pipefail

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[setup] error:\033[0m %s\n' "$*" >&2; exit 1; }

docker_answers() { docker info >/dev/null 2>&1; }

missing=()
need_cmd() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
# test/python.test.ts runs the official Python client (skipped without it).
python_client() { /usr/bin/python3 -c 'import kubernetes' >/dev/null 2>&1; }

if docker_answers; then
  say "Docker engine is running: $(docker version --format '{{.Server.Version}}' 2>/dev/null || echo unknown)"
  if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null 2>&1; then
    say "note: neither 'docker compose' nor 'docker-compose' is available; install the Docker Compose plugin to use 'docker compose up'."
  fi
  # deploy/build-images.sh builds the lab's images from these host tools (no registry needed).
  for tool in debootstrap:debootstrap busybox:busybox-static etcd:etcd-server; do
    command -v "${tool%%:*}" >/dev/null 2>&1 ||
      say "note: '${tool%%:*}' is missing; deploy/build-images.sh needs it (apt-get install ${tool#*:})."
  done
  python_client || say "note: the Python Kubernetes client is missing; test/python.test.ts is skipped without it (apt-get install python3-kubernetes)."
  # Test-only: the dashboard's browser tests drive Debian's chromium (no browser download).
  command -v chromium >/dev/null 2>&1 || say "note: chromium is missing; the dashboard's browser tests are skipped without it (apt-get install chromium)."
  exit 0
fi

[ "$(id -u)" = 0 ] || die "no Docker engine answers and this is not root. Start Docker (or Docker Desktop), or re-run this script as root on a Debian/Ubuntu host."
command -v apt-get >/dev/null 2>&1 || die "no Docker engine answers and this host has no apt-get. Install and start Docker yourself, then re-run."

need_cmd dockerd docker.io
need_cmd iptables iptables
need_cmd docker-compose docker-compose
need_cmd etcd etcd-server
need_cmd debootstrap debootstrap
need_cmd busybox busybox-static
need_cmd ip iproute2
need_cmd curl curl
python_client || missing+=(python3-kubernetes)
# Test-only: test/dashboard*.test.ts drive Debian's chromium through playwright-core.
need_cmd chromium chromium
if [ ${#missing[@]} -gt 0 ]; then
  say "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The Debian etcd-server package starts a system etcd on 2379; kubelab runs its own etcd.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet etcd 2>/dev/null; then systemctl stop etcd || true; fi
pkill -x etcd -f '/usr/bin/etcd$' 2>/dev/null || true

# `docker compose` (v2 plugin) or a shim onto docker-compose v1.
if ! docker compose version >/dev/null 2>&1; then
  plugdir=/usr/local/lib/docker/cli-plugins
  mkdir -p "$plugdir"
  cat >"$plugdir/docker-compose" <<'SHIM'
#!/bin/sh
# CLI-plugin shim: `docker compose ...` -> docker-compose v1
if [ "$1" = "docker-cli-plugin-metadata" ]; then
  echo '{"SchemaVersion":"0.1.0","Vendor":"kubelab","Version":"v1-shim","ShortDescription":"docker-compose v1 shim"}'
  exit 0
fi
shift
exec docker-compose "$@"
SHIM
  chmod +x "$plugdir/docker-compose"
  say "installed 'docker compose' shim onto docker-compose v1"
fi

if ! docker_answers; then
  say "starting dockerd"
  mkdir -p /var/log
  nohup dockerd >/var/log/kubelab-dockerd.log 2>&1 &
  for i in $(seq 1 60); do
    docker_answers && break
    sleep 0.5
  done
  docker_answers || die "dockerd did not answer within 30 s; see /var/log/kubelab-dockerd.log"
fi
say "Docker engine is running: $(docker version --format '{{.Server.Version}}')"
