#!/usr/bin/env bash
# Cluster container check: brings up docker-compose.cluster.yml (PostgreSQL, two API replicas, a worker, nginx) and
# exercises it through nginx the way a client would: every service healthy, both replicas answering, a dataset
# uploaded and a model trained by the worker, its training events streamed live, its model used by every replica,
# and one API replica stopped gracefully in the middle of a stream of predictions without failing any of them.
# Needs Docker; on a CI machine without it, the shared docker-offline tool (a sibling of the clone) provides it.
# Usage: bash .ci/cluster-test.sh   (from anywhere; run as root on CI)
set -euo pipefail
cd "$(dirname "$0")/.."

DOCKER_OFFLINE=${DOCKER_OFFLINE:-../shared/tools/docker-offline.sh}
PORT=${MODELSERVICE_PORT:-18090}
BASE=http://127.0.0.1:$PORT
API_KEY=ci-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export COMPOSE_PROJECT_NAME=modelservice-cluster-ci COMPOSE_FILE=docker-compose.cluster.yml MODELSERVICE_PORT=$PORT
export POSTGRES_PASSWORD=ci-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
work=$(mktemp -d)

step() { echo "== cluster: $*"; }
fail() {
    echo "cluster test FAILED: $*" >&2
    docker compose ps -a >&2 2>/dev/null || true
    docker compose logs --no-color --tail=40 >&2 2>/dev/null || true
    exit 1
}
# shellcheck source=.ci/lib.sh
source .ci/lib.sh

cleanup() {
    local rc=$?
    step "cleaning up"
    jobs -p | xargs -r kill 2>/dev/null || true
    docker compose down -v --remove-orphans >/dev/null 2>&1 || true
    if [[ -f $DOCKER_OFFLINE ]]; then bash "$DOCKER_OFFLINE" down || true; fi
    rm -rf "$work"
    exit "$rc"
}

predict() {
    http POST /api/v1/predictions -H 'Content-Type: application/json' -d '{"records":[{"square_footage":0.5,"rooms":0.5}]}'
    expect 200 "prediction through nginx"
}

# The upstream addresses nginx sent the last N proxied requests of PATH to, one per line. nginx writes its access
# log at least once a second.
upstreams() {
    sleep 1.2
    docker compose logs --no-color --no-log-prefix nginx | { grep -F "\"$2 " || true; } | tail -n "$1" \
        | sed -n 's/.* upstream=\([^ ,]*\).*/\1/p'
}

wait_healthy() {
    local id=$1 status=
    for _ in $(seq 90); do
        status=$(docker inspect -f '{{.State.Health.Status}}' "$id")
        [[ $status == healthy ]] && return 0
        sleep 2
    done
    fail "container $id not healthy (status: $status)"
}

# prediction_stream SECONDS OUT: 4 clients send predictions back to back; every answer's status goes to OUT.
prediction_stream() {
    local until=$((SECONDS + $1)) out=$2
    for c in 1 2 3 4; do
        while ((SECONDS < until)); do
            curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 "$BASE/api/v1/predictions" \
                -H 'Content-Type: application/json' -d '{"records":[{"square_footage":0.5,"rooms":0.5}]}' || echo "curl-$?"
        done >"$out.$c" &
    done
    wait
    cat "$out".? >"$out"
}

need_tools
trap cleanup EXIT
trap 'fail "line $LINENO: $BASH_COMMAND exited with status $?"' ERR
if [[ -f $DOCKER_OFFLINE ]]; then
    step "starting Docker ($DOCKER_OFFLINE up)"
    eval "$(bash "$DOCKER_OFFLINE" up)"
fi
docker info >/dev/null 2>&1 || fail "no Docker daemon"

step "docker compose -f docker-compose.cluster.yml up -d --build --wait"
export Auth__ApiKeys__0=$API_KEY
docker compose up -d --build --wait --wait-timeout 300 || fail "the cluster did not become healthy"
docker compose ps

step "every service is healthy: postgres, 2 api, 1 worker, nginx"
docker compose ps --format json | jq -s 'if type == "array" and (.[0] | type) == "array" then .[0] else . end' >"$work/ps.json"
jq -r '.[] | "\(.Service) \(.Name) \(.State) \(.Health)"' "$work/ps.json"
for service in postgres:1 api:2 worker:1 nginx:1; do
    healthy=$(jq --arg s "${service%:*}" '[.[] | select(.Service == $s and .Health == "healthy")] | length' "$work/ps.json")
    [[ $healthy == "${service#*:}" ]] || fail "${service%:*}: $healthy healthy containers, expected ${service#*:}"
done

step "the bundled default model answers through nginx, from both API replicas"
for _ in $(seq 20); do predict; done
default_model=$(jq -r .modelId <<<"$BODY")
jq -e '.predictions | length == 1 and (.[0] - 300000 | fabs) <= 15000' <<<"$BODY" >/dev/null \
    || fail "default model: expected about 300000 for (0.5, 0.5), got $BODY"
answered=$(upstreams 20 "POST /api/v1/predictions")
replicas=$(sort -u <<<"$answered" | wc -l)
echo "default model $default_model; 20 predictions answered by $replicas replicas: $(sort <<<"$answered" | uniq -c | xargs)"
((replicas == 2)) || fail "nginx sent 20 predictions to $replicas replica(s), expected both"

step "writes need the API key on every replica"
csv=$(awk 'BEGIN { srand(7); print "square_footage,rooms,price";
    for (i = 0; i < 4000; i++) { a = rand(); b = rand(); printf "%.6f,%.6f,%.2f\n", a, b, 500000*a + 100000*b } }')
for _ in 1 2; do
    http POST '/api/v1/datasets?name=ci-houses' -H 'Content-Type: text/csv' --data-binary "$csv"
    expect 401 "dataset upload without X-Api-Key"
done

step "upload a dataset through nginx; every replica sees it at once"
http POST '/api/v1/datasets?name=ci-houses' -H 'Content-Type: text/csv' -H "X-Api-Key: $API_KEY" --data-binary "$csv"
expect 201 "dataset upload"
dataset=$(jq -r .id <<<"$BODY")
for _ in 1 2 3 4; do
    http GET "/api/v1/datasets/$dataset"
    expect 200 "GET the new dataset (any replica)"
done

step "train through nginx: the worker runs the job, its events stream live through nginx"
http POST /api/v1/training-jobs -H 'Content-Type: application/json' -H "X-Api-Key: $API_KEY" \
    -d "{\"datasetId\":\"$dataset\",\"target\":\"price\",\"epochs\":40,\"seed\":1,\"activate\":true}"
expect 202 "training job submission"
job=$(jq -r .id <<<"$BODY")
curl -sN --max-time 300 "$BASE/api/v1/training-jobs/$job/events" >"$work/events" &
events_pid=$!
for _ in $(seq 600); do
    grep -q '^event: epoch' "$work/events" && break
    kill -0 "$events_pid" 2>/dev/null || break
    sleep 0.1
done
grep -q '^event: epoch' "$work/events" || fail "no epoch event through nginx: $(cat "$work/events")"
http GET "/api/v1/training-jobs/$job"
expect 200 "GET training job"
status_at_first_event=$(jq -r .status <<<"$BODY")
echo "first epoch event arrived while the job was $status_at_first_event (epoch $(jq -r .progress.epoch <<<"$BODY") of 40)"
[[ $status_at_first_event == running ]] || fail "the first event reached the client only when the job was $status_at_first_event (buffered?)"
wait "$events_pid" || fail "the event stream ended with curl status $?"
grep -q '^event: outcome' "$work/events" || fail "the event stream closed without an outcome: $(tail -5 "$work/events")"
epochs_streamed=$(grep -c '^event: epoch' "$work/events")
outcome=$(grep -A1 '^event: outcome' "$work/events" | sed -n 's/^data: //p')
echo "$epochs_streamed epoch events, outcome $outcome"
[[ $(jq -r .status <<<"$outcome") == succeeded ]] || fail "training outcome: $outcome"
((epochs_streamed == $(jq -r .epochs <<<"$outcome"))) || fail "$epochs_streamed epoch events for $(jq -r .epochs <<<"$outcome") epochs"

http GET "/api/v1/training-jobs/$job"
trained_model=$(jq -r .modelId <<<"$BODY")
job_worker=$(jq -r .worker <<<"$BODY")
worker_host=$(docker inspect -f '{{.Config.Hostname}}' "$(docker compose ps -q worker)")
echo "job $job: model $trained_model, run by $job_worker (attempts $(jq -r .attempts <<<"$BODY")); the worker container is $worker_host"
[[ $job_worker == "$worker_host" ]] || fail "job $job ran on '$job_worker', not on the worker ($worker_host)"

step "every replica predicts with the newly activated model"
for _ in $(seq 30); do
    ok=1
    for _ in 1 2 3 4 5 6; do
        predict
        [[ $(jq -r .modelId <<<"$BODY") == "$trained_model" ]] || ok=0
    done
    ((ok)) && break
    sleep 0.2
done
((ok)) || fail "after the activation predictions still come from $(jq -r .modelId <<<"$BODY"), not $trained_model"
echo "6 predictions in a row from $trained_model"

step "graceful stop of one API replica during a stream of predictions"
stopped=$(docker compose ps -q api | sed -n 1p)
prediction_stream 16 "$work/graceful" &
stream_pid=$!
sleep 4
started=$SECONDS
docker stop -t 40 "$stopped" >/dev/null
echo "replica ${stopped:0:12} stopped in $((SECONDS - started)) s"
wait "$stream_pid"
total=$(wc -l <"$work/graceful")
failed=$(grep -vc '^200$' "$work/graceful" || true)
echo "$total predictions, $failed failed: $(sort "$work/graceful" | uniq -c | xargs)"
((total > 100)) || fail "only $total predictions in the stream"
((failed == 0)) || fail "$failed of $total predictions failed while a replica stopped gracefully"

step "the stopped replica comes back and takes traffic again"
docker start "$stopped" >/dev/null
wait_healthy "$stopped"
for _ in $(seq 20); do
    for _ in $(seq 20); do predict; done
    answered=$(upstreams 20 "POST /api/v1/predictions")
    (($(sort -u <<<"$answered" | wc -l) == 2)) && break
done
(($(sort -u <<<"$answered" | wc -l) == 2)) || fail "nginx does not send traffic to the restarted replica"
echo "20 predictions answered by both replicas again: $(sort <<<"$answered" | uniq -c | xargs)"

echo "cluster test passed"
