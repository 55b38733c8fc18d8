#!/usr/bin/env bash
# Runs a command with DATABASE_URL pointing at a PostgreSQL that answers:
#  1. DATABASE_URL if it is set;
#  2. otherwise the server on localhost:5432 (postgres://localhost/weaverse);
#  3. otherwise, when PostgreSQL's server programs are installed, a private
#     cluster in var/pg on a Unix socket, started on demand.
# It stops with one clear message when none of these can be had.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dbname=${WEAVERSE_DB_NAME:-weaverse}

if [ -n "${DATABASE_URL:-}" ]; then
  exec "$@"
fi

if command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h localhost -p 5432; then
  export DATABASE_URL="postgres://localhost/$dbname"
  exec "$@"
fi

bindir=""
for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r) /usr/local/bin /usr/bin; do
  if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then bindir=$dir; break; fi
done
if [ -z "$bindir" ]; then
  cat >&2 <<MSG
weaverse: no PostgreSQL answers on localhost:5432 and PostgreSQL is not installed.
  Install it (Debian/Ubuntu: sudo apt-get install -y postgresql) and run this again,
  or set DATABASE_URL=postgres://user:password@host/weaverse to a server you can reach.
MSG
  exit 1
fi

data="$root/var/pg/data"
sock="$root/var/pg/run"
mkdir -p "$sock"
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  # initdb and postgres refuse to run as root.
  owner=$(getent passwd postgres >/dev/null && echo postgres || echo nobody)
  chown -R "$owner" "$root/var/pg"
  as_owner=(runuser -u "$owner" --)
fi
if [ ! -s "$data/PG_VERSION" ]; then
  echo "weaverse: creating a private PostgreSQL cluster in var/pg"
  "${as_owner[@]}" "$bindir/initdb" -D "$data" -U weaverse --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
fi
if ! "${as_owner[@]}" "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  echo "weaverse: starting the private PostgreSQL (socket in var/pg/run)"
  "${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -l "$root/var/pg/server.log" -w \
    -o "-c listen_addresses='' -k $sock" start >/dev/null
fi
export DATABASE_URL="postgres://weaverse@localhost/$dbname?host=$sock"
exec "$@"
