#!/usr/bin/env bash
# What the official image's /opt/entrypoint.sh does for a command other than a Kubernetes driver or executor: gives
# a uid with no passwd entry (the compose file runs Spark as 50000) a name through nss_wrapper, since Hadoop's login
# needs one, then runs the command as given.
set -euo pipefail
if ! getent passwd "$(id -u)" >/dev/null 2>&1; then
  wrapper=$(ls /usr/lib/*/libnss_wrapper.so 2>/dev/null | head -1 || true)
  if [ -n "$wrapper" ]; then
    NSS_WRAPPER_PASSWD=$(mktemp)
    NSS_WRAPPER_GROUP=$(mktemp)
    export LD_PRELOAD="$wrapper" NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
    printf 'spark:x:%s:%s:%s:%s:/bin/false\n' "$(id -u)" "$(id -g)" "${SPARK_USER_NAME:-anonymous uid}" "$SPARK_HOME" \
      >"$NSS_WRAPPER_PASSWD"
    printf 'spark:x:%s:\n' "$(id -g)" >"$NSS_WRAPPER_GROUP"
  fi
fi
exec "$@"
