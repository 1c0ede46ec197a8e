#!/bin/sh
# Writes HAProxy's configuration from $KUBELAB_HAPROXY_CFG, checks it, then runs the command.
set -eu
cfg=/usr/local/etc/haproxy/haproxy.cfg
if [ -z "${KUBELAB_HAPROXY_CFG:-}" ]; then
  echo "kubelab-haproxy: KUBELAB_HAPROXY_CFG is empty: the load balancer needs its configuration (cli/lab/spec.ts haproxyConfig)" >&2
  exit 2
fi
printf '%s\n' "$KUBELAB_HAPROXY_CFG" >"$cfg"
haproxy -c -q -f "$cfg"
exec "$@"
