#!/usr/bin/env bash
# Cluster benchmark through nginx (docker-compose.cluster.yml on loopback): single-record prediction rate with 1 vs 2
# API replicas, measured alternately in the same run, and the predictions that fail while one of two replicas is
# stopped gracefully (docker stop: SIGTERM, drain) or killed (kill -9 of its process; Docker restarts it). The rate is
# measured for single-record requests (the proxy path dominates) and for 1,000-record requests (the replicas' CPU
# dominates), with each replica's CPU limit at the compose default (2) and at 0.5, as for pods with CPU limits.
# Usage (from anywhere, as root): bash benchmarks/cluster/nginx.sh
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
    docker rm -f "$COMPOSE_PROJECT_NAME-nginx-one" >/dev/null 2>&1 || true
    if [[ $KEEP != 1 ]]; then
        docker compose down -v --remove-orphans >/dev/null 2>&1 || true
        if [[ -f $DOCKER_OFFLINE ]]; then bash "$DOCKER_OFFLINE" down || true; fi
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "benchmark FAILED at line $LINENO: $BASH_COMMAND (status $?)" >&2' ERR

if [[ -f $DOCKER_OFFLINE ]]; then eval "$(bash "$DOCKER_OFFLINE" up)"; fi
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== docker compose -f docker-compose.cluster.yml up -d --build --wait"
docker compose up -d --build --wait --wait-timeout 300 >/dev/null
docker compose ps --format '{{.Name}} {{.Status}}'

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# load SECONDS [SCRIPT]: wrk through nginx (single-record predictions unless SCRIPT names another body); prints
# "requests rate failures" where failures are non-2xx answers plus socket errors (connect, read, write, timeout).
load() {
    wrk -t2 -c"$CONNECTIONS" -d"$1s" --timeout 30s -s "${2:-$here/../load/post.lua}" "$BASE/api/v1/predictions" >"$work/wrk.txt"
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

# nginx tries a replica that failed again after 2 s (fail_timeout); give it that and a margin after any change.
settle() { sleep 3; }

replica=$(docker compose ps -q api | sed -n 1p)
address=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$replica")
network=$(docker inspect -f '{{range $name, $_ := .NetworkSettings.Networks}}{{$name}}{{end}}' "$replica")

# The peer for "1 replica": a second nginx, same configuration and image, whose upstream is that one replica. Both
# replicas stay up and warm, so each round measures both shapes in turn without restarting anything.
sed "s/server api:8080/server $address:8080/" deploy/nginx/modelservice.conf >"$work/one.conf"
docker rm -f "$COMPOSE_PROJECT_NAME-nginx-one" >/dev/null 2>&1 || true
docker run -d --name "$COMPOSE_PROJECT_NAME-nginx-one" --network "$network" -p "127.0.0.1:$((PORT + 1)):80" \
    -v "$work/one.conf:/etc/nginx/conf.d/default.conf:ro" nginx:1.27 >/dev/null
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$((PORT + 1))/health/ready" && break; sleep 0.2; done

echo "== warm-up: 20 s of predictions through nginx (both replicas; tiered JIT settles)"
load 20 >/dev/null

# rates LIMIT [SCRIPT]: sets every API replica's CPU limit (docker update, live) and measures 2 replicas (the compose
# nginx) and 1 replica (the peer nginx) alternately; prints the medians as "one two".
rates() {
    local one=() two=() a b
    docker update --cpus "$1" $(docker compose ps -q api) >/dev/null
    load 3 "${2:-}" >/dev/null
    for round in $(seq "$RUNS"); do
        if ((round % 2)); then
            read -r _ a _ < <(load "$DURATION" "${2:-}")
            read -r _ b _ < <(BASE=http://127.0.0.1:$((PORT + 1)) load "$DURATION" "${2:-}")
        else
            read -r _ b _ < <(BASE=http://127.0.0.1:$((PORT + 1)) load "$DURATION" "${2:-}")
            read -r _ a _ < <(load "$DURATION" "${2:-}")
        fi
        two+=("$a") one+=("$b")
        echo "CPU limit $1 per replica, ${2:+1000-record requests, }round $round: 2 replicas $a req/s, 1 replica $b req/s" >&2
    done
    echo "$(printf '%s\n' "${one[@]}" | median) $(printf '%s\n' "${two[@]}" | median)"
}

echo "== prediction rate through nginx, 1 vs 2 API replicas, $CONNECTIONS connections, ${DURATION}s per run, $RUNS rounds"
read -r single_one single_two < <(rates 2)
read -r batch_one batch_two < <(rates 2 "$here/batch.lua")
read -r capped_one capped_two < <(rates 0.5 "$here/batch.lua")
docker update --cpus 2 $(docker compose ps -q api) >/dev/null
docker rm -f "$COMPOSE_PROJECT_NAME-nginx-one" >/dev/null

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
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
row() { echo "| $1 | $2 | $3 | $(ratio "$3" "$2") |"; }
echo "| requests/s through nginx, median of $RUNS ($CONNECTIONS connections) | 1 replica | 2 replicas | 2 / 1 |"
echo "|---|---|---|---|"
row "1 record per request, CPU limit 2 per replica (the compose default)" "$single_one" "$single_two"
row "1,000 records per request, CPU limit 2 per replica" "$batch_one" "$batch_two"
row "1,000 records per request, CPU limit 0.5 per replica" "$capped_one" "$capped_two"
echo
echo "| one of 2 replicas, 6 s into 20 s of single-record predictions ($RUNS rounds) | failed |"
echo "|---|---|"
echo "| stopped gracefully (docker stop) | $graceful_failed of $graceful_total |"
echo "| killed (kill -9), restarted by Docker | $kill_failed of $kill_total |"
echo "| (predictions nginx retried on the other replica, whole run: $retried) | |"
