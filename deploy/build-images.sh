#!/usr/bin/env bash
# Builds kubelab's container images locally, with no container registry:
#
#   kubelab/debian:bookworm  debootstrap --variant=minbase bookworm, imported with `docker import`
#   kubelab/pause:latest     FROM scratch: static C pause (built in a Debian stage) + static busybox
#   kubelab/busybox:latest   FROM scratch: the host's static busybox + applet symlinks
#   kubelab/etcd:latest      Debian base + the host's etcd (+ etcdctl)
#   kubelab/kubelab:latest   Debian base + iptables/iproute2/conntrack + host node + node_modules + dist
#   kubelab/ingress-nginx:latest  Debian base + Debian's nginx + the same node, node_modules and dist
#   kubelab/haproxy:latest   Debian base + Debian's HAProxy: the load balancer of an HA control plane (--ha)
#   kubelab/dockerhost:latest  Debian base + Debian's docker.io: a Docker host in a container (multi-host tests)
#
# Every image is labelled io.kubelab.inputs-hash=<sha256 of its inputs>; when an image with the
# same hash exists the build is skipped, so a rerun with nothing changed takes seconds.
#
# Knobs:
#   KUBELAB_IMAGES="pause busybox"   build a subset (names: debian pause busybox etcd kubelab ingress-nginx haproxy dockerhost);
#                                    missing bases are built too
#   KUBELAB_FORCE_REBUILD=1          rebuild the selected images without Docker's layer cache
#                                    (debian is re-imported from the cached debootstrap tarball;
#                                    delete .deploy-cache/debian-* to re-run debootstrap)
#   KUBELAB_DEBIAN_MIRROR=URL        Debian mirror for debootstrap (default: the host's apt mirror)
#   KUBELAB_SKIP_TSC=1               do not run `npm run build` before staging dist/
#   KUBELAB_IMAGE=kubelab/kubelab:x  tag of the component image (default kubelab/kubelab:latest); test
#                                    clusters and the service lab use the same variable, so a second
#                                    checkout can test its own code without replacing :latest
#   KUBELAB_INGRESS_IMAGE=...        tag of the ingress image (default kubelab/ingress-nginx:<tag of KUBELAB_IMAGE>,
#                                    so KUBELAB_IMAGE=kubelab/kubelab:x also gives kubelab/ingress-nginx:x)
#
# Uses Docker's classic builder (DOCKER_BUILDKIT=0): it needs no buildx plugin and sees local
# images in FROM, which is all these Dockerfiles need.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IMAGES_DIR="$ROOT/deploy/images"
CACHE="$ROOT/.deploy-cache"
CTX="$CACHE/ctx"
RECIPE_VERSION=1 # bump to force every image to rebuild after a change to this script's recipes
ALL_IMAGES=(debian pause busybox etcd kubelab ingress-nginx haproxy dockerhost)
HASH_LABEL=io.kubelab.inputs-hash

export DOCKER_BUILDKIT=0
export DOCKER_CLI_HINTS=false

if [ -t 2 ]; then B=$'\033[1m' R=$'\033[31m' G=$'\033[32m' D=$'\033[2m' N=$'\033[0m'; else B='' R='' G='' D='' N=''; fi
say() { printf '%s[images]%s %s\n' "$B" "$N" "$*" >&2; }
die() { printf '%s[images] error:%s %s\n' "$R" "$N" "$*" >&2; exit 1; }
# fail IMAGE REASON: the message always names the image.
fail() { die "building $1 failed: $2"; }
indent() { sed -u "s/^/${D}    | ${N}/" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

kubelab_tag() {
  local img=${KUBELAB_IMAGE:-kubelab/kubelab:latest}
  case "$img" in *:*) echo "${img##*:}" ;; *) echo latest ;; esac
}

ref_of() {
  case "$1" in
    debian) echo kubelab/debian:bookworm ;;
    kubelab) echo "${KUBELAB_IMAGE:-kubelab/kubelab:latest}" ;;
    ingress-nginx) echo "${KUBELAB_INGRESS_IMAGE:-kubelab/ingress-nginx:$(kubelab_tag)}" ;;
    *) echo "kubelab/$1:latest" ;;
  esac
}

image_id() { docker image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }
image_hash() { docker image inspect --format "{{ index .Config.Labels \"$HASH_LABEL\" }}" "$1" 2>/dev/null || true; }

# up_to_date REF HASH: an image with this inputs hash exists (and no forced rebuild).
up_to_date() {
  [ "${KUBELAB_FORCE_REBUILD:-0}" != 1 ] && [ "$(image_hash "$1")" = "$2" ]
}

# ctx_hash DIR [EXTRA...]: hash of every file (content, mode, symlink target) under DIR plus EXTRA
# strings. deps/node_modules is left out: it is keyed by the lockfile (passed as EXTRA).
ctx_hash() {
  local dir=$1
  shift
  {
    printf 'recipe %s\n' "$RECIPE_VERSION"
    printf 'extra %s\n' "$@"
    cd "$dir"
    find . -path ./deps/node_modules -prune -o \( -type f -o -type l -o -type d \) -printf '%P %y %m %l\n' | LC_ALL=C sort
    find . -path ./deps/node_modules -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
  } | sha256sum | cut -d' ' -f1
}

# docker_build NAME HASH CONTEXT: build with progress; on failure name the image and the reason.
docker_build() {
  local name=$1 hash=$2 ctx=$3 ref old log
  ref=$(ref_of "$name")
  old=$(image_id "$ref")
  log="$CACHE/build-$name.log"
  local args=(build --force-rm --label "$HASH_LABEL=$hash" --label "io.kubelab.image=$name" -t "$ref")
  [ "${KUBELAB_FORCE_REBUILD:-0}" = 1 ] && args+=(--no-cache)
  if ! docker "${args[@]}" "$ctx" 2>&1 | tee "$log" | indent; then
    local reason
    reason=$(grep -E "returned a non-zero code|^(ERROR|Error|error)|failed to|COPY failed|no such file" "$log" | tail -n 1 || true)
    fail "$ref" "${reason:-docker build exited non-zero} (full log: ${log#"$ROOT"/})"
  fi
  # Drop the image this one replaced, if nothing uses it (keeps disk use flat across rebuilds).
  local new
  new=$(image_id "$ref")
  if [ -n "$old" ] && [ "$old" != "$new" ]; then docker rmi "$old" >/dev/null 2>&1 || true; fi
}

# --- Debian mirror, from the host's apt configuration ----------------------------------------
# Prints "URI" of the first enabled deb source whose suite is exactly SUITE.
apt_uri_for_suite() {
  local suite=$1 f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -r "$f" ] || continue
    # one-line format: deb [opts] URI SUITE COMPONENTS...
    awk -v s="$suite" '
      $1 == "deb" {
        i = 2
        if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        if ($(i + 1) == s) { print $i; exit }
      }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    # deb822 format: stanzas separated by blank lines
    awk -v s="$suite" '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && enabled != "no" && (" " suites " ") ~ (" " s " ") && uris != "") {
          split(uris, u, " "); print u[1]; found = 1; exit
        }
        types = ""; suites = ""; uris = ""; enabled = ""
      }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      tolower($1) == "types:" { $1 = ""; types = $0 }
      tolower($1) == "suites:" { $1 = ""; suites = $0 }
      tolower($1) == "uris:" { $1 = ""; uris = $0 }
      tolower($1) == "enabled:" { enabled = tolower($2) }
      END { if (!found) flush() }' "$f"
  done
}

SUITE=bookworm
debian_mirror() {
  if [ -n "${KUBELAB_DEBIAN_MIRROR:-}" ]; then
    echo "$KUBELAB_DEBIAN_MIRROR"
    return
  fi
  local m
  m=$(apt_uri_for_suite "$SUITE" | head -n 1)
  echo "${m:-http://deb.debian.org/debian}"
}
debian_security_mirror() {
  apt_uri_for_suite "$SUITE-security" | head -n 1
}

# --- kubelab/debian:bookworm ------------------------------------------------------------------
# Turns a debootstrap tree into a container base (what Debian's official images do, roughly).
prepare_rootfs() {
  local rootfs=$1 mirror=$2 security=$3
  rm -f "$rootfs/etc/apt/sources.list"
  {
    printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$mirror" "$SUITE" "$SUITE"
    if [ -n "$security" ]; then
      printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$security" "$SUITE"
    fi
  } >"$rootfs/etc/apt/sources.list.d/debian.sources"
  # No daemons start inside image builds.
  printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
  chmod 755 "$rootfs/usr/sbin/policy-rc.d"
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  printf 'Acquire::Languages "none";\n' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$rootfs/etc/apt/apt.conf.d/docker-no-recommends"
  # Slim: no docs, man pages or translations (copyright files stay).
  mkdir -p "$rootfs/etc/dpkg/dpkg.cfg.d"
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
EOF
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* "$rootfs"/usr/share/lintian/*
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* \
    "$rootfs"/tmp/* "$rootfs"/root/.bash_history
  # Docker provides these at run time.
  : >"$rootfs/etc/resolv.conf"
  rm -f "$rootfs/etc/hostname"
  : >"$rootfs/etc/machine-id"
}

unmount_under() {
  local dir=$1 m
  [ -d "$dir" ] || return 0
  # Deepest first.
  awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do umount -l "$m" || true; done
}

ensure_debian() {
  local ref mirror security arch hash tarball rootfs t0
  ref=$(ref_of debian)
  arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
  # The image's identity is its recipe (suite, variant, arch, rootfs tweaks), not the mirror or
  # the day it was bootstrapped: a lost cache must not force every other image to rebuild.
  hash=$(printf 'recipe %s\nsuite %s\nvariant minbase\narch %s\n%s\n' "$RECIPE_VERSION" "$SUITE" "$arch" \
    "$(declare -f prepare_rootfs)" | sha256sum | cut -d' ' -f1)
  if up_to_date "$ref" "$hash"; then
    say "$ref is up to date ${D}(${hash:0:12})${N}"
    return
  fi
  t0=$(now)
  tarball="$CACHE/debian-$SUITE-minbase-$arch-${hash:0:12}.tar"
  if [ ! -s "$tarball" ]; then
    command -v debootstrap >/dev/null 2>&1 || fail "$ref" "debootstrap is not installed (apt-get install debootstrap, or run deploy/setup-host.sh)"
    [ "$(id -u)" = 0 ] || fail "$ref" "debootstrap needs root; run as root (or import a Debian rootfs tarball as $ref yourself)"
    mirror=$(debian_mirror)
    security=$(debian_security_mirror)
    rootfs="$CACHE/debian-rootfs"
    say "building $ref: debootstrap --variant=minbase $SUITE from $mirror (about a minute) ..."
    unmount_under "$rootfs"
    rm -rf --one-file-system "$rootfs"
    mkdir -p "$rootfs"
    trap 'unmount_under "$rootfs"' EXIT
    if ! debootstrap --variant=minbase --arch="$arch" "$SUITE" "$rootfs" "$mirror" 2>&1 | tee "$CACHE/debootstrap.log" | indent; then
      unmount_under "$rootfs"
      fail "$ref" "debootstrap from $mirror failed: $(grep -E '^E:|W: Failure' "$CACHE/debootstrap.log" | tail -n 1) (log: .deploy-cache/debootstrap.log; see also $rootfs/debootstrap/debootstrap.log)"
    fi
    unmount_under "$rootfs"
    trap - EXIT
    prepare_rootfs "$rootfs" "$mirror" "$security"
    rm -f "$CACHE"/debian-"$SUITE"-minbase-"$arch"-*.tar
    tar --numeric-owner -C "$rootfs" -cf "$tarball.tmp" . || fail "$ref" "could not write $tarball"
    mv "$tarball.tmp" "$tarball"
    rm -rf --one-file-system "$rootfs"
    say "cached the Debian rootfs as ${tarball#"$ROOT"/} ($(du -h "$tarball" | cut -f1))"
  else
    say "building $ref from cached ${tarball#"$ROOT"/}"
  fi
  local old
  old=$(image_id "$ref")
  docker import \
    --change 'ENV DEBIAN_FRONTEND=noninteractive' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "LABEL $HASH_LABEL=$hash" \
    --change 'LABEL io.kubelab.image=debian' \
    --change 'CMD ["bash"]' \
    "$tarball" "$ref" >/dev/null || fail "$ref" "docker import of $tarball failed"
  if [ -n "$old" ] && [ "$old" != "$(image_id "$ref")" ]; then docker rmi "$old" >/dev/null 2>&1 || true; fi
  say "${G}built $ref${N} in $(elapsed "$t0")s"
}

# --- host binaries ----------------------------------------------------------------------------
static_busybox() {
  local bb
  bb=$(command -v busybox 2>/dev/null || true)
  [ -n "$bb" ] || fail "$1" "no busybox on this host (apt-get install busybox-static, or run deploy/setup-host.sh)"
  bb=$(readlink -f "$bb")
  if ldd "$bb" >/dev/null 2>&1; then
    fail "$1" "$bb is dynamically linked; a FROM scratch image needs the static one (apt-get install busybox-static)"
  fi
  echo "$bb"
}

# sync_file SRC DST: copy unless DST already has SRC's size and mtime (big binaries, fast reruns).
sync_file() {
  if [ -f "$2" ] && [ "$(stat -c '%s %Y' "$1")" = "$(stat -c '%s %Y' "$2")" ]; then return; fi
  cp -p "$1" "$2"
}

# fresh_ctx NAME: an empty staging context holding deploy/images/NAME/*.
fresh_ctx() {
  local dir="$CTX/$1"
  mkdir -p "$dir"
  cp -p "$IMAGES_DIR/$1"/* "$dir"/
  echo "$dir"
}

# build_staged NAME CTX [EXTRA...]: hash the staged context (+ base image id) and build if needed.
build_staged() {
  local name=$1 ctx=$2 ref hash t0
  shift 2
  ref=$(ref_of "$name")
  local base=""
  if grep -q '^FROM kubelab/debian' "$ctx/Dockerfile"; then base=$(image_id "$(ref_of debian)"); fi
  hash=$(ctx_hash "$ctx" "base $base" "$@")
  if up_to_date "$ref" "$hash"; then
    say "$ref is up to date ${D}(${hash:0:12})${N}"
    return
  fi
  say "building $ref ${D}(inputs ${hash:0:12})${N} ..."
  t0=$(now)
  docker_build "$name" "$hash" "$ctx"
  say "${G}built $ref${N} in $(elapsed "$t0")s"
}

ensure_pause() {
  local ctx bb
  bb=$(static_busybox "$(ref_of pause)")
  rm -rf "$CTX/pause"
  ctx=$(fresh_ctx pause)
  cp -p "$bb" "$ctx/busybox"
  build_staged pause "$ctx"
}

ensure_busybox() {
  local ctx bb ref applet
  ref=$(ref_of busybox)
  bb=$(static_busybox "$ref")
  rm -rf "$CTX/busybox"
  ctx=$(fresh_ctx busybox)
  # rootfs/: /bin/busybox + a relative symlink per applet (what `busybox --install -s /bin` does).
  mkdir -p "$ctx/rootfs/bin" "$ctx/rootfs/etc" "$ctx/rootfs/tmp" "$ctx/rootfs/root" "$ctx/rootfs/usr/bin" \
    "$ctx/rootfs/var/run" "$ctx/rootfs/www"
  chmod 1777 "$ctx/rootfs/tmp"
  chmod 700 "$ctx/rootfs/root"
  cp -p "$bb" "$ctx/rootfs/bin/busybox"
  "$bb" --list | while read -r applet; do
    [ "$applet" = busybox ] || ln -s busybox "$ctx/rootfs/bin/$applet"
  done
  [ -e "$ctx/rootfs/bin/sh" ] || fail "$ref" "$bb has no sh applet"
  ln -s /bin/env "$ctx/rootfs/usr/bin/env"
  mv "$ctx/passwd" "$ctx/group" "$ctx/rootfs/etc/"
  chmod 644 "$ctx/rootfs/etc/passwd" "$ctx/rootfs/etc/group"
  build_staged busybox "$ctx"
}

ensure_etcd() {
  local ctx ref etcd etcdctl
  ref=$(ref_of etcd)
  etcd=$(command -v etcd 2>/dev/null || true)
  [ -n "$etcd" ] || fail "$ref" "no etcd on this host (apt-get install etcd-server, or run deploy/setup-host.sh)"
  rm -rf "$CTX/etcd"
  ctx=$(fresh_ctx etcd)
  mkdir -p "$ctx/bin"
  cp -p "$(readlink -f "$etcd")" "$ctx/bin/etcd"
  etcdctl=$(command -v etcdctl 2>/dev/null || true)
  if [ -n "$etcdctl" ]; then cp -p "$(readlink -f "$etcdctl")" "$ctx/bin/etcdctl"; fi
  build_staged etcd "$ctx"
}

ensure_haproxy() {
  local ctx
  rm -rf "$CTX/haproxy"
  ctx=$(fresh_ctx haproxy)
  build_staged haproxy "$ctx"
}

ensure_dockerhost() {
  local ctx
  rm -rf "$CTX/dockerhost"
  ctx=$(fresh_ctx dockerhost)
  build_staged dockerhost "$ctx"
}

# dist/ must be newer than every TypeScript source: `npm run build` compiles what changed (deploy/build.mjs
# says "up to date" in ~50 ms when nothing did).
ensure_dist() {
  local ref=$1
  [ "${KUBELAB_SKIP_TSC:-0}" = 1 ] && return
  (cd "$ROOT" && npm run --silent build) 2>&1 | indent || fail "$ref" "the TypeScript build (npm run build) failed; see the errors above"
}

# stage_kubelab: fills .deploy-cache/ctx/kubelab (node, deps, app); prints the lockfile key.
stage_kubelab() {
  local ctx ref node lockkey
  ref=$(ref_of "$1")
  node=$(command -v node 2>/dev/null || true)
  [ -n "$node" ] || fail "$ref" "no node on this host"
  node=$(readlink -f "$node")
  # main() compiled dist/ (ensure_dist) before building the images that carry it.
  [ -d "$ROOT/dist" ] || fail "$ref" "dist/ is missing after the TypeScript build"
  mkdir -p "$CTX/kubelab"
  ctx="$CTX/kubelab"
  cp -p "$IMAGES_DIR/kubelab/Dockerfile" "$ctx/Dockerfile"
  sync_file "$node" "$ctx/node"

  # Production node_modules, keyed on package.json + package-lock.json.
  lockkey=$(cat "$ROOT/package.json" "$ROOT/package-lock.json" | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$ctx/deps/.key" 2>/dev/null || true)" != "$lockkey" ] || [ ! -d "$ctx/deps/node_modules" ]; then
    say "installing production node_modules (npm ci --omit=dev --ignore-scripts) ..."
    rm -rf "$ctx/deps"
    mkdir -p "$ctx/deps"
    cp "$ROOT/package.json" "$ROOT/package-lock.json" "$ctx/deps/"
    if ! (cd "$ctx/deps" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error) >"$CACHE/npm-ci.log" 2>&1; then
      if grep -q 'are in sync' "$CACHE/npm-ci.log"; then
        # A lockfile that lacks some packages (typically other platforms' optional ones) makes
        # `npm ci` refuse; `npm install` resolves the rest from the same lockfile. Warn and go on.
        say "warning: package-lock.json is out of sync with package.json ($(grep -m1 -o 'Missing: .*' "$CACHE/npm-ci.log" || echo 'see .deploy-cache/npm-ci.log')); run 'npm install' to fix it. Falling back to npm install --omit=dev."
        (cd "$ctx/deps" && npm install --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error) 2>&1 | indent ||
          fail "$ref" "npm install --omit=dev in ${ctx#"$ROOT"/}/deps failed (is the npm registry reachable?)"
        cp "$ROOT/package-lock.json" "$ctx/deps/package-lock.json"
      else
        indent <"$CACHE/npm-ci.log"
        fail "$ref" "npm ci --omit=dev in ${ctx#"$ROOT"/}/deps failed (is the npm registry reachable?); log: .deploy-cache/npm-ci.log"
      fi
    fi
    echo "$lockkey" >"$ctx/deps/.key"
  fi

  # The app: package.json, proto/, dist/ (no declaration files or build info).
  rm -rf "$ctx/app"
  mkdir -p "$ctx/app/dist" "$ctx/app/proto"
  cp "$ROOT/package.json" "$ctx/app/package.json"
  if [ -d "$ROOT/proto" ]; then cp -a "$ROOT/proto/." "$ctx/app/proto/"; fi
  tar -C "$ROOT/dist" --exclude=./.tsbuildinfo --exclude='*.d.ts' --exclude='*.d.ts.map' -cf - . | tar -C "$ctx/app/dist" -xf -
  # Data files the REST facade reads at run time (OpenAPI schemas, protobuf field tables).
  mkdir -p "$ctx/app/data/apiserver/rest"
  for d in openapi proto; do
    if [ -d "$ROOT/apiserver/rest/$d" ]; then
      mkdir -p "$ctx/app/data/apiserver/rest/$d"
      cp "$ROOT/apiserver/rest/$d/"*.json "$ctx/app/data/apiserver/rest/$d/" 2>/dev/null || true
    fi
  done
  # The lab's audit policy (the apiserver's --audit-policy-file /app/deploy/audit-policy.yaml).
  mkdir -p "$ctx/app/data/deploy"
  cp "$ROOT/deploy/audit-policy.yaml" "$ctx/app/data/deploy/audit-policy.yaml"
  if [ ! -f "$ctx/app/dist/bundle/component.js" ]; then
    say "warning: dist/bundle/component.js does not exist yet (run \`npm run build\`); $ref will be built but its ENTRYPOINT will fail"
  fi
  echo "$lockkey"
}

ensure_kubelab() {
  local lockkey
  lockkey=$(stage_kubelab kubelab)
  build_staged kubelab "$CTX/kubelab" "node_modules $lockkey"
}

# The same staged app as kubelab, with another Dockerfile (nginx first, so a code change rebuilds only dist).
ensure_ingress_nginx() {
  local lockkey ctx="$CTX/ingress-nginx"
  lockkey=$(stage_kubelab ingress-nginx)
  rm -rf "$ctx"
  mkdir -p "$ctx"
  cp -al "$CTX/kubelab/." "$ctx/" 2>/dev/null || cp -a "$CTX/kubelab/." "$ctx/"
  rm -f "$ctx/Dockerfile"
  cp "$IMAGES_DIR/ingress-nginx/Dockerfile" "$ctx/Dockerfile"
  build_staged ingress-nginx "$ctx" "node_modules $lockkey"
}

# --- main -------------------------------------------------------------------------------------
main() {
  local t_all requested=() selected=() name want n
  t_all=$(now)
  docker info >/dev/null 2>&1 || die "Docker does not answer (docker info failed). Run: bash deploy/setup-host.sh"
  mkdir -p "$CTX"

  for name in ${KUBELAB_IMAGES:-${ALL_IMAGES[*]}}; do
    name=${name#kubelab/}
    name=${name%%:*}
    case " ${ALL_IMAGES[*]} " in
      *" $name "*) requested+=("$name") ;;
      *) die "unknown image '$name' in KUBELAB_IMAGES (known: ${ALL_IMAGES[*]})" ;;
    esac
  done

  # One build at a time per checkout (tests and the lab may run this concurrently).
  exec 9>"$CACHE/.build-images.lock"
  if ! flock -n 9; then
    say "waiting for another build-images.sh in this checkout to finish ..."
    flock 9
  fi

  for name in "${ALL_IMAGES[@]}"; do
    want=0
    for n in "${requested[@]}"; do [ "$n" = "$name" ] && want=1; done
    [ "$want" = 1 ] && selected+=("$name")
  done
  say "images: ${selected[*]}"

  # Images built on the Debian base need it, requested or not.
  local needs_debian=0
  for name in "${selected[@]}"; do
    case "$name" in debian | pause | etcd | kubelab | ingress-nginx | haproxy | dockerhost) needs_debian=1 ;; esac
  done
  if [ "$needs_debian" = 1 ]; then
    case " ${selected[*]} " in
      *" debian "*) ensure_debian ;;
      *) KUBELAB_FORCE_REBUILD=0 ensure_debian ;;
    esac
  fi
  # The images that carry dist/: compiled first, and the time noted, for the stamp below.
  local dist_images=() t_dist=''
  for name in "${selected[@]}"; do
    case "$name" in kubelab | ingress-nginx) dist_images+=("$(ref_of "$name")") ;; esac
  done
  if [ "${#dist_images[@]}" -gt 0 ]; then
    ensure_dist "${dist_images[0]}"
    t_dist=$(now)
  fi
  for name in "${selected[@]}"; do
    case "$name" in
      debian) ;;
      pause) ensure_pause ;;
      busybox) ensure_busybox ;;
      etcd) ensure_etcd ;;
      kubelab) ensure_kubelab ;;
      ingress-nginx) ensure_ingress_nginx ;;
      haproxy) ensure_haproxy ;;
      dockerhost) ensure_dockerhost ;;
    esac
  done
  # .deploy-cache/images.stamp: these images hold dist/ as it was at the stamp's time. An image whose inputs did
  # not change is not rebuilt and keeps its old creation time, older than a dist/ compiled again with the same
  # content (a fresh clone): \`kubelab lab up\` reads the stamp (image ids must match) instead of running this
  # script again for nothing (cli/lab/compose.ts imagesCurrent).
  if [ -n "$t_dist" ]; then
    local stamp="$CACHE/images.stamp" sep='' ref
    {
      printf '{'
      for ref in "${dist_images[@]}"; do
        printf '%s"%s": "%s"' "$sep" "$ref" "$(image_id "$ref")"
        sep=', '
      done
      printf '}\n'
    } >"$stamp.new"
    touch -d "@$t_dist" "$stamp.new"
    mv -f "$stamp.new" "$stamp"
  fi
  say "done in $(elapsed "$t_all")s"
  docker images --filter 'reference=kubelab/*' --format '  {{.Repository}}:{{.Tag}}  {{.Size}}' >&2
}

main "$@"
