#!/usr/bin/env bash
# Install (apt, when missing) and start the real services the test suite needs:
# PostgreSQL and Redis on loopback, on project-private ports and data directories.
# Writes var/services.env with TEST_POSTGRES_URL and TEST_REDIS_URL for `make test`.
set -euo pipefail

PG_PORT="${TEST_PG_PORT:-55432}"
REDIS_PORT="${TEST_REDIS_PORT:-56379}"
PG_DATA="${TEST_PG_DATA:-/tmp/techfin-matchmaker-pg-$PG_PORT}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ENV_FILE="$ROOT/var/services.env"
APT_UPDATED=0

apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "services.sh: need root to apt-get install $*; install them or run as root" >&2
    exit 1
  fi
  if [ "$APT_UPDATED" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  echo "$d"
}

ensure_installed() {
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  [ -n "$(pg_bin)" ] && [ -x "$(pg_bin)/postgres" ] || apt_install postgresql
  # The report's charts need a CJK font; the browser tests drive Debian's Chromium.
  fc-list 2>/dev/null | grep -qi "noto sans cjk" || apt_install fonts-noto-cjk fontconfig
  command -v chromium >/dev/null 2>&1 || apt_install chromium chromium-driver
  # LightGBM's wheel (the offline investor ranker) links against OpenMP's runtime.
  ldconfig -p 2>/dev/null | grep -q libgomp.so.1 || apt_install libgomp1
}

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
  local bin; bin="$(pg_bin)"
  if as_pg "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then return; fi
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    mkdir -p "$PG_DATA"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$PG_DATA"
    as_pg "$bin/initdb" -D "$PG_DATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  as_pg "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/server.log" -w \
    -o "-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
  as_pg "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname='matchmaker_test'" | grep -q 1 ||
    as_pg "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres matchmaker_test
}

start_redis() {
  if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then return; fi
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save "" \
    --appendonly no --dir /tmp --logfile "/tmp/techfin-matchmaker-redis-$REDIS_PORT.log"
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return; sleep 0.1; done
  echo "services.sh: redis did not start" >&2; exit 1
}

stop_all() {
  local bin; bin="$(pg_bin)"
  [ -f "$PG_DATA/PG_VERSION" ] && as_pg "$bin/pg_ctl" -D "$PG_DATA" -m fast stop >/dev/null || true
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
}

case "${1:-start}" in
  start)
    ensure_installed
    start_postgres
    start_redis
    mkdir -p "$(dirname "$ENV_FILE")"
    {
      echo "TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/matchmaker_test"
      echo "TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
    } >"$ENV_FILE"
    echo "services: PostgreSQL on 127.0.0.1:$PG_PORT, Redis on 127.0.0.1:$REDIS_PORT"
    ;;
  stop) stop_all ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
