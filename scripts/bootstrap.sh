#!/usr/bin/env bash
# Install what `make run` / `make test` need on a fresh Debian/Ubuntu machine: PostgreSQL 15
# with PostGIS (only when no server is reachable or PostGIS is missing), uv, and the virtual
# environment. Idempotent: re-running installs nothing that is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

DB_URL="${SHOUWANG_DATABASE_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/shouwang}"
PG_HOST="$(python3 -c 'import sys,urllib.parse as u; p=u.urlparse(sys.argv[1].replace("+asyncpg","")); print(p.hostname or "127.0.0.1")' "$DB_URL")"
PG_PORT="$(python3 -c 'import sys,urllib.parse as u; p=u.urlparse(sys.argv[1].replace("+asyncpg","")); print(p.port or 5432)' "$DB_URL")"
PG_USER="$(python3 -c 'import sys,urllib.parse as u; p=u.urlparse(sys.argv[1].replace("+asyncpg","")); print(p.username or "postgres")' "$DB_URL")"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
APT_UPDATED=0
apt_install() {
  if [ "$APT_UPDATED" -eq 0 ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

is_local() { [ "$PG_HOST" = "127.0.0.1" ] || [ "$PG_HOST" = "localhost" ] || [ "$PG_HOST" = "::1" ]; }

pg_reachable() {
  timeout 3 bash -c "exec 3<>/dev/tcp/$PG_HOST/$PG_PORT" 2>/dev/null
}

# A server we installed ourselves only accepts passwords on TCP; for this development
# set-up let the postgres role in from the loopback address without one.
trust_loopback() {
  local hba
  hba="$(ls /etc/postgresql/*/main/pg_hba.conf 2>/dev/null | sort -V | tail -n1)"
  [ -n "$hba" ] || return 0
  if ! grep -q "shouwang-dev" "$hba"; then
    $SUDO sed -i '1i host all postgres 127.0.0.1/32 trust # shouwang-dev\nhost all postgres ::1/128 trust # shouwang-dev' "$hba"
  fi
}

# 1. PostgreSQL server (local only: a remote server is the operator's business).
if ! pg_reachable; then
  if is_local; then
    if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
      echo "bootstrap: installing PostgreSQL 15 + PostGIS"
      apt_install postgresql-15 postgresql-15-postgis-3 postgresql-client-15 \
        || apt_install postgresql postgis postgresql-client
    fi
    trust_loopback
    version="$(ls /etc/postgresql | sort -V | tail -n1)"
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null \
      || $SUDO pg_ctlcluster "$version" main start 2>/dev/null \
      || $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main reload 2>/dev/null || true
    for _ in $(seq 1 30); do pg_reachable && break; sleep 1; done
  fi
  pg_reachable || { echo "bootstrap: PostgreSQL at $PG_HOST:$PG_PORT is not reachable" >&2; exit 1; }
fi

# 2. PostGIS for the local server's major version.
if is_local; then
  command -v psql >/dev/null 2>&1 || apt_install postgresql-client
  major="$(psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -Atc 'SHOW server_version_num' | cut -c1-2)"
  have="$(psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -Atc "SELECT count(*) FROM pg_available_extensions WHERE name = 'postgis'")"
  if [ "$have" = "0" ]; then
    echo "bootstrap: installing PostGIS for PostgreSQL $major"
    apt_install "postgresql-${major}-postgis-3"
  fi
fi

# 3. uv and the virtual environment from the committed lock. pip puts uv in ~/.local/bin
#    (--user) or, on Debian's externally managed Python as root, in /usr/local/bin.
export PATH="$HOME/.local/bin:/usr/local/bin:$PATH"
if ! command -v uv >/dev/null 2>&1; then
  echo "bootstrap: installing uv"
  command -v python3 >/dev/null 2>&1 || apt_install python3
  python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip python3-venv
  python3 -m pip install --quiet --user uv 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages uv
  command -v uv >/dev/null 2>&1 || { echo "bootstrap: uv did not install" >&2; exit 1; }
fi
uv sync --frozen --quiet
