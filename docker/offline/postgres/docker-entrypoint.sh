#!/usr/bin/env bash
# The part of the official image's entrypoint that docker-compose.yaml relies on: as root, own the data and drop to
# `postgres`; on an empty PGDATA, initdb with POSTGRES_USER and POSTGRES_PASSWORD and password authentication from
# any host; then run the server in the foreground, listening on every interface.
set -euo pipefail
if [ "${1:0:1}" = '-' ]; then
  set -- postgres "$@"
fi
if [ "$1" != 'postgres' ]; then
  exec "$@"
fi
if [ "$(id -u)" = '0' ]; then
  mkdir -p "$PGDATA"
  chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo 'Error: the database is uninitialized and POSTGRES_PASSWORD is not set.' >&2
    exit 1
  fi
  initdb --username="${POSTGRES_USER:-postgres}" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 -D "$PGDATA"
  printf '\nhost all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  echo 'PostgreSQL init process complete; ready for start up.'
fi
exec "$@" -c listen_addresses='*'
