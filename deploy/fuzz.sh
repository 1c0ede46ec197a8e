#!/usr/bin/env bash
# `npm run fuzz -- [--inputs N] [--seed S]`: the hostile-input suite (test/fuzz.test.ts) with more inputs
# than CI's 10,000. Needs the host's etcd (deploy/setup-host.sh); no image, no container.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
inputs=100000
seed=""
while [ $# -gt 0 ]; do
  case "$1" in
    --inputs) inputs="${2:?--inputs needs a number}"; shift 2 ;;
    --seed) seed="${2:?--seed needs a number}"; shift 2 ;;
    -h|--help) sed -n '2,3p' "$0"; exit 0 ;;
    *) echo "[fuzz] error: unknown argument '$1' (use --inputs N, --seed S)" >&2; exit 2 ;;
  esac
done
[[ "$inputs" =~ ^[0-9]+$ ]] || { echo "[fuzz] error: --inputs '$inputs' is not a whole number" >&2; exit 2; }
export KUBELAB_FUZZ_INPUTS="$inputs"
# A new seed per run unless --seed replays one (npm test replays a fixed seed).
export KUBELAB_FUZZ_RANDOM=1
[ -z "$seed" ] || export KUBELAB_FUZZ_SEED="$seed"
echo "[fuzz] $inputs inputs${seed:+, seed $seed}; progress every batch, outcome table at the end" >&2
exec npx vitest run --project clusters test/fuzz.test.ts
