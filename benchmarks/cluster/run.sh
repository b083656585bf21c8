#!/usr/bin/env bash
# Cluster-mode figures for docs/SCALING.md: N workers draining a queue, activation fan-out, kill -9 takeover.
# Publishes the service in Release, starts a private PostgreSQL cluster (initdb as the postgres user when run as
# root, a free port, stopped at exit) and runs benchmarks/cluster/cluster_bench.py against it.
# Knobs: JOBS (200), WORKERS ("1 2 4"), ROUNDS (3), ACTIVATIONS (100), REPLICAS (3), KILLS (3), KILL_LEASE (5), PARTS
# (comma-separated subset of drain,activation,takeover; all by default).
set -euo pipefail
cd "$(dirname "$0")/../.."

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [[ -z "$bin" ]]; then
    apt-get -o DPkg::Lock::Timeout=600 update
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends postgresql
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi

work=$(mktemp -d /tmp/modelservice-cluster-bench.XXXXXX)
as_pg() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
    as_pg "$bin/pg_ctl" stop -D "$work/pg" -m immediate >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
[[ $(id -u) == 0 ]] && chown postgres "$work"

echo "== publishing the service (Release)"
dotnet publish src/Api -c Release -o "$work/app" -v quiet -nologo >/dev/null

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg "$bin/initdb" -D "$work/pg" -U postgres --auth=trust -E UTF8 >/dev/null
cat >> "$work/pg/postgresql.conf" <<CONF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$work'
max_connections = 200
CONF
as_pg "$bin/pg_ctl" start -D "$work/pg" -l "$work/pg.log" -w >/dev/null
echo "== PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"

/usr/bin/python3 benchmarks/cluster/cluster_bench.py --app "$work/app/ModelService.Api.dll" --pg-port "$port" \
    --pg-bin "$bin" --work "$work"
