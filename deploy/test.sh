#!/usr/bin/env bash
# kubelab's test command (`npm test`): host setup, build, images, vitest, then a leftover check.
#
#   bash deploy/test.sh                        everything
#   bash deploy/test.sh test/images.test.ts    arguments go to `vitest run`
#   bash deploy/test.sh --project unit
#
# After vitest, no container labelled io.kubelab.test / io.kubelab.cluster (any value) and no
# network labelled io.kubelab.cluster / io.kubelab.test may be left: leftovers are listed, removed,
# and fail the run. Only objects created during this run count (objects that already existed
# before it, e.g. another checkout's running lab or tests, are reported but never touched).
# KUBELAB_LEFTOVER_CHECK=0 skips the check.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

export TESTCONTAINERS_RYUK_DISABLED=true
export TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1

if [ -t 2 ]; then B=$'\033[1m' R=$'\033[31m' G=$'\033[32m' N=$'\033[0m'; else B='' R='' G='' N=''; fi
step() { printf '\n%s[test] %s%s\n' "$B" "$*" "$N" >&2; }
say() { printf '%s[test]%s %s\n' "$B" "$N" "$*" >&2; }
die() { printf '%s[test] error:%s %s\n' "$R" "$N" "$*" >&2; exit 1; }

LABELS=(io.kubelab.test io.kubelab.cluster)

labelled_containers() {
  local l
  for l in "${LABELS[@]}"; do docker ps -aq --no-trunc --filter "label=$l"; done | sort -u
}
labelled_networks() {
  local l
  for l in "${LABELS[@]}"; do docker network ls -q --no-trunc --filter "label=$l"; done | sort -u
}

step "1/5 host setup (deploy/setup-host.sh)"
bash deploy/setup-host.sh

step "2/5 TypeScript build (npm run build)"
npm run --silent build || die "npm run build failed"

step "3/5 lint (eslint: no component imports another, no floating promises) beside the images (deploy/build-images.sh)"
# Side by side: eslint is CPU in this process, the image build mostly Docker's own I/O (~27 s and ~17 s here,
# one after the other). eslint's report is printed once the images are done, so the two do not interleave.
lint_log=$(mktemp)
npx eslint . >"$lint_log" 2>&1 &
lint_pid=$!
# dist/ was just compiled: the image build need not run tsc again.
images_rc=0
KUBELAB_SKIP_TSC=1 bash deploy/build-images.sh || images_rc=$?
lint_rc=0
wait "$lint_pid" || lint_rc=$?
cat "$lint_log" >&2
rm -f "$lint_log"
[ "$lint_rc" = 0 ] || die "eslint found problems (see above); fix them, or run \`npx eslint --fix .\` for the mechanical ones"
[ "$images_rc" = 0 ] || die "deploy/build-images.sh failed (see above)"

bash deploy/reap-stale-clusters.sh
before_containers=$(labelled_containers)
before_networks=$(labelled_networks)
if [ -n "$before_containers$before_networks" ]; then
  say "note: $(printf '%s' "$before_containers" | grep -c . || true) container(s) and $(printf '%s' "$before_networks" | grep -c . || true) network(s) labelled io.kubelab.* existed before this run; the leftover check ignores them"
fi

step "4/5 vitest run $*"
rc=0
trap 'say "interrupted; checking for leftovers before exiting"' INT TERM
npx vitest run "$@" || rc=$?
trap - INT TERM

step "5/5 leftover check (containers/networks labelled ${LABELS[*]})"
if [ "${KUBELAB_LEFTOVER_CHECK:-1}" = 0 ]; then
  say "skipped (KUBELAB_LEFTOVER_CHECK=0)"
  exit "$rc"
fi
left_containers=$(comm -13 <(printf '%s\n' "$before_containers" | sort -u) <(labelled_containers) | grep . || true)
left_networks=$(comm -13 <(printf '%s\n' "$before_networks" | sort -u) <(labelled_networks) | grep . || true)
if [ -n "$left_containers$left_networks" ]; then
  printf '%s[test] FAIL: tests left Docker objects behind (every test must remove what it creates):%s\n' "$R" "$N" >&2
  if [ -n "$left_containers" ]; then
    # shellcheck disable=SC2086
    docker ps -a $(printf -- '--filter id=%s ' $left_containers) \
      --format 'container {{.Names}}  {{.Image}}  {{.Status}}  {{.Labels}}' | sed 's/^/  /' >&2 || true
    # shellcheck disable=SC2086
    docker rm -f -v $left_containers >/dev/null || true
  fi
  if [ -n "$left_networks" ]; then
    for n in $left_networks; do
      docker network inspect --format '  network {{.Name}}  {{.Labels}}' "$n" >&2 || true
    done
    # shellcheck disable=SC2086
    docker network rm $left_networks >/dev/null || true
  fi
  say "removed them"
  [ "$rc" != 0 ] || rc=1
else
  say "${G}nothing left behind${N}"
fi
exit "$rc"
