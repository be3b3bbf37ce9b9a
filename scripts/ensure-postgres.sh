#!/usr/bin/env bash
# Make sure a local PostgreSQL server is running and that the test role exists,
# then print the admin URL the test suite connects with (one line on stdout).
#
# Idempotent, non-interactive, quiet on success. As root it installs PostgreSQL
# (Debian packages) if missing, starts the cluster if down, and creates the
# role through the Unix socket (peer authentication as the postgres OS user).
# Everything else connects over 127.0.0.1 as the test role, because the
# `postgres` role has no password over TCP.
set -euo pipefail

ROLE=subledger_test
PASSWORD=subledger_test
HOST=127.0.0.1
MIN_CONNECTIONS=400

die() { echo "ensure-postgres: $*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# Run a command quietly; on failure show its output and stop.
quietly() {
    local log
    log="$(mktemp)"
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        die "failed: $*"
    fi
    rm -f "$log"
}

# Print "VERSION CLUSTER PORT STATUS" of the cluster to use: the newest version,
# preferring a cluster named "main". Prints nothing if there is none.
pick_cluster() {
    command -v pg_lsclusters >/dev/null 2>&1 || return 0
    pg_lsclusters --no-header 2>/dev/null \
        | awk '{ print $1, $2, $3, $4, ($2 == "main" ? 1 : 0) }' \
        | sort -k1,1nr -k5,5nr \
        | head -n 1 \
        | cut -d' ' -f1-4
}

# Can the test role log in over TCP? (Used when we are not root.)
role_can_login() {
    PGPASSWORD="$PASSWORD" PGCONNECT_TIMEOUT=5 psql -X -q -w -h "$HOST" -p "$1" \
        -U "$ROLE" -d postgres -tAc 'select 1' >/dev/null 2>&1
}

admin_url() { echo "postgresql://$ROLE:$PASSWORD@$HOST:$1/postgres"; }

# --- not root: we can only check ---------------------------------------------
if ! is_root; then
    cluster="$(pick_cluster)"
    port="${cluster:+$(echo "$cluster" | cut -d' ' -f3)}"
    port="${port:-5432}"
    if command -v psql >/dev/null 2>&1 && role_can_login "$port"; then
        admin_url "$port"
        exit 0
    fi
    die "PostgreSQL is not reachable as $ROLE on $HOST:$port and we are not root to set it up (run 'sudo scripts/ensure-postgres.sh' once)."
fi

# --- root: install, start, create the role -----------------------------------
export DEBIAN_FRONTEND=noninteractive

if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! command -v pg_lsclusters >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || die "PostgreSQL is not installed and apt-get is not available."
    quietly apt-get update
    quietly apt-get install -y --no-install-recommends postgresql
fi

cluster="$(pick_cluster)"
if [ -z "$cluster" ]; then
    # Installed but no cluster (e.g. the package was installed without one).
    version="$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1)"
    [ -n "$version" ] || die "no PostgreSQL server binaries under /usr/lib/postgresql."
    quietly pg_createcluster "$version" main
    cluster="$(pick_cluster)"
    [ -n "$cluster" ] || die "could not create a PostgreSQL cluster."
fi
read -r version name port status <<<"$cluster"

if [[ "$status" != online* ]]; then
    # Another process may start it at the same time: only fail if it is still down.
    if ! pg_ctlcluster --skip-systemctl-redirect "$version" "$name" start >/dev/null 2>&1; then
        status="$(pg_lsclusters --no-header "$version" "$name" | awk '{ print $4 }')"
        [[ "$status" == online* ]] || {
            tail -n 20 "/var/log/postgresql/postgresql-$version-$name.log" >&2 2>/dev/null || true
            die "could not start cluster $version/$name."
        }
    fi
fi

# Wait until it accepts connections, on the socket and on TCP.
for _ in $(seq 1 60); do
    if pg_isready -q -p "$port" && pg_isready -q -h "$HOST" -p "$port"; then
        break
    fi
    sleep 0.5
done
pg_isready -q -h "$HOST" -p "$port" || die "cluster $version/$name does not accept connections on $HOST:$port."

# The suite runs servers, workers and several ledgers at once, each with its pools: the
# default 100 connections is too few. Raised once, on a cluster nobody uses yet (a fresh
# machine): a restart would cut off whoever is connected.
current="$(cd / && runuser -u postgres -- psql -X -At -p "$port" -d postgres -c 'SHOW max_connections')"
if [ "${current:-0}" -lt "$MIN_CONNECTIONS" ]; then
    (cd / && quietly runuser -u postgres -- psql -X -q -p "$port" -d postgres \
        -c "ALTER SYSTEM SET max_connections = $MIN_CONNECTIONS")
    quietly pg_ctlcluster --skip-systemctl-redirect "$version" "$name" restart
    for _ in $(seq 1 60); do
        pg_isready -q -h "$HOST" -p "$port" && break
        sleep 0.5
    done
fi

# Create the role if missing (and keep its password and rights as expected).
# The DO block tolerates a concurrent creation by another run of this script.
# pg_signal_backend: scratch databases are dropped WITH (FORCE), and an autovacuum worker
# analysing a freshly filled one belongs to no role, so only this right lets the drop end it.
(
    cd /   # postgres cannot read root's working directory; avoid psql's warning
    runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$port" -d postgres >/dev/null <<SQL
SET client_min_messages = warning;
DO \$\$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN
        BEGIN
            CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD';
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
END
\$\$;
ALTER ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD';
GRANT pg_signal_backend TO $ROLE;
SQL
) || die "could not create role $ROLE."

admin_url "$port"
