#!/usr/bin/env bash
# Cluster benchmark through nginx (docker-compose.cluster.yml on loopback): single-record prediction rate with 1 vs 2
# API replicas, measured alternately in the same run, and the predictions that fail while one of two replicas is
# stopped gracefully (docker stop: SIGTERM, drain) or killed (kill -9 of its process; Docker restarts it).
# Usage (from anywhere, as root): bash benchmarks/cluster/run.sh
# Environment: DURATION (s per rate run, 10), RUNS (rounds of each measurement, 3), CONNECTIONS (16), PORT (18190),
# DOCKER_OFFLINE (../shared/tools/docker-offline.sh from the repository root; started when present), KEEP=1 to leave
# the stack and Docker running afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=$PWD/benchmarks/cluster

DURATION=${DURATION:-10}
RUNS=${RUNS:-3}
CONNECTIONS=${CONNECTIONS:-16}
PORT=${PORT:-18190}
DOCKER_OFFLINE=${DOCKER_OFFLINE:-../shared/tools/docker-offline.sh}
KEEP=${KEEP:-0}
BASE=http://127.0.0.1:$PORT
export COMPOSE_PROJECT_NAME=modelservice-cluster-bench COMPOSE_FILE=docker-compose.cluster.yml MODELSERVICE_PORT=$PORT

if ! command -v wrk >/dev/null; then
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq wrk >/dev/null
fi

work=$(mktemp -d)
cleanup() {
    if [[ $KEEP != 1 ]]; then
        docker compose down -v --remove-orphans >/dev/null 2>&1 || true
        if [[ -f $DOCKER_OFFLINE ]]; then bash "$DOCKER_OFFLINE" down || true; fi
    fi
    rm -rf "$work"
}
trap cleanup EXIT

if [[ -f $DOCKER_OFFLINE ]]; then eval "$(bash "$DOCKER_OFFLINE" up)"; fi
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== docker compose -f docker-compose.cluster.yml up -d --build --wait"
docker compose up -d --build --wait --wait-timeout 300 >/dev/null
docker compose ps --format '{{.Name}} {{.Status}}'

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# load SECONDS: wrk through nginx; prints "requests rate failures" where failures are non-2xx answers plus socket
# errors (connect, read, write, timeout) as wrk counts them.
load() {
    wrk -t2 -c"$CONNECTIONS" -d"$1s" --timeout 30s -s "$here/../load/post.lua" "$BASE/api/v1/predictions" >"$work/wrk.txt"
    awk '/requests in/ { n = $1 } /Requests\/sec/ { r = $2 } /Non-2xx/ { f += $NF }
         /Socket errors/ { for (i = 3; i <= NF; i++) { v = $i; gsub(/,/, "", v); if (v ~ /^[0-9]+$/) f += v } }
         END { printf "%d %.0f %d\n", n, r, f }' "$work/wrk.txt"
}

wait_healthy() {
    for _ in $(seq 120); do
        [[ $(docker inspect -f '{{.State.Health.Status}}' "$1") == healthy ]] && return 0
        sleep 1
    done
    echo "container $1 not healthy" >&2
    exit 1
}

# nginx re-resolves the replicas every 2 s; give it that and a margin after any change.
settle() { sleep 3; }

replica=$(docker compose ps -q api | head -1)
echo "== warm-up: $((DURATION / 2)) s of predictions through nginx"
load $((DURATION / 2)) >/dev/null

echo "== prediction rate through nginx, 1 vs 2 API replicas, $CONNECTIONS connections, ${DURATION}s per run, $RUNS rounds"
one=() two=()
for round in $(seq "$RUNS"); do
    read -r _ rate failures < <(load "$DURATION")
    two+=("$rate")
    docker stop -t 40 "$replica" >/dev/null
    settle
    load 3 >/dev/null
    read -r _ rate1 failures1 < <(load "$DURATION")
    one+=("$rate1")
    echo "round $round: 2 replicas $rate req/s ($failures failed), 1 replica $rate1 req/s ($failures1 failed)"
    docker start "$replica" >/dev/null
    wait_healthy "$replica"
    settle
    load 3 >/dev/null # the restarted replica's JIT warms up
done
rate_one=$(printf '%s\n' "${one[@]}" | median)
rate_two=$(printf '%s\n' "${two[@]}" | median)

# disruption WHAT: 20 s of predictions; 6 s in, one of the two replicas is stopped gracefully or killed.
# Prints "requests failures seconds-until-the-replica-is-back".
disruption() {
    local pid started back
    load 20 >"$work/disrupted" &
    pid=$!
    sleep 6
    started=$SECONDS
    case $1 in
        graceful) docker stop -t 40 "$replica" >/dev/null; docker start "$replica" >/dev/null ;;
        kill) kill -9 "$(docker inspect -f '{{.State.Pid}}' "$replica")" ;;
    esac
    wait "$pid"
    wait_healthy "$replica"
    back=$((SECONDS - started))
    settle
    read -r requests _ failures <"$work/disrupted"
    echo "$requests $failures $back"
}

echo "== one of 2 replicas stopped (docker stop) or killed (kill -9) 6 s into 20 s of predictions, $RUNS rounds each"
graceful_failed=0 graceful_total=0 kill_failed=0 kill_total=0
for round in $(seq "$RUNS"); do
    read -r requests failures back < <(disruption graceful)
    graceful_total=$((graceful_total + requests)) graceful_failed=$((graceful_failed + failures))
    echo "round $round: graceful stop: $failures of $requests failed (replica back in ${back}s)"
    read -r requests failures back < <(disruption kill)
    kill_total=$((kill_total + requests)) kill_failed=$((kill_failed + failures))
    echo "round $round: kill -9: $failures of $requests failed (replica restarted by Docker, healthy after ${back}s)"
done
sleep 2 # nginx flushes its access log every second
retried=$(docker compose logs --no-color --no-log-prefix nginx | grep -F '"POST /api/v1/predictions ' \
    | grep -c 'upstream=[^ ]*, ' || true)

echo
echo "| measurement (through nginx, $CONNECTIONS connections) | result |"
echo "|---|---|"
echo "| predictions/s, 1 API replica (median of $RUNS) | $rate_one |"
echo "| predictions/s, 2 API replicas (median of $RUNS) | $rate_two |"
echo "| 2 replicas / 1 replica | $(awk -v a="$rate_two" -v b="$rate_one" 'BEGIN { printf "%.2f", a / b }') |"
echo "| failed during a graceful stop of 1 of 2 replicas ($RUNS x 20 s) | $graceful_failed of $graceful_total |"
echo "| failed during a kill -9 of 1 of 2 replicas ($RUNS x 20 s) | $kill_failed of $kill_total |"
echo "| predictions nginx retried on the other replica (whole run) | $retried |"
