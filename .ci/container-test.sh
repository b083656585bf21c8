#!/usr/bin/env bash
# Container check: builds the image, starts it with docker compose and exercises it the way an operator would:
# ready with the bundled default model, non-root, API key enforced, a training job whose model survives a restart.
# Needs Docker; on a CI machine without it, the shared docker-offline tool (a sibling of the clone) provides it.
# Usage: bash .ci/container-test.sh   (from anywhere; run as root on CI)
set -euo pipefail
cd "$(dirname "$0")/.."

DOCKER_OFFLINE=${DOCKER_OFFLINE:-../shared/tools/docker-offline.sh}
PORT=${MODELSERVICE_PORT:-18080}
GRPC_PORT=${MODELSERVICE_GRPC_PORT:-18081}
BASE=http://127.0.0.1:$PORT
API_KEY=ci-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export COMPOSE_PROJECT_NAME=modelservice-ci MODELSERVICE_PORT=$PORT MODELSERVICE_GRPC_PORT=$GRPC_PORT

step() { echo "== container: $*"; }
fail() {
    echo "container test FAILED: $*" >&2
    docker compose logs --no-color --tail=80 api >&2 2>/dev/null || true
    exit 1
}
# shellcheck source=.ci/lib.sh
source .ci/lib.sh

cleanup() {
    local rc=$?
    step "cleaning up"
    docker compose down -v --remove-orphans >/dev/null 2>&1 || true
    if [[ -f $DOCKER_OFFLINE ]]; then bash "$DOCKER_OFFLINE" down || true; fi
    exit "$rc"
}

wait_healthy() {
    local id status
    id=$(docker compose ps -q api)
    for _ in $(seq 90); do
        status=$(docker inspect -f '{{.State.Health.Status}}' "$id")
        [[ $status == healthy ]] && return 0
        sleep 2
    done
    fail "container not healthy after a restart (status: $status)"
}

predict_seed_point() {
    http POST /api/v1/predictions -H 'Content-Type: application/json' \
        -d '{"records":[{"square_footage":0.5,"rooms":0.5}]}'
    expect 200 "prediction"
}

need_tools
trap cleanup EXIT
if [[ -f $DOCKER_OFFLINE ]]; then
    step "starting Docker ($DOCKER_OFFLINE up)"
    eval "$(bash "$DOCKER_OFFLINE" up)"
fi
docker info >/dev/null 2>&1 || fail "no Docker daemon"

step "building the image"
docker compose build api
docker image ls modelservice:local --format 'image {{.Repository}}:{{.Tag}} {{.Size}}'

step "docker compose up --wait"
export Auth__ApiKeys__0=$API_KEY
docker compose up -d --wait --wait-timeout 240 || fail "the service did not become healthy"
docker compose ps

step "runs as a non-root user"
uid=$(docker compose exec -T api id -u) || fail "cannot exec in the container"
[[ $uid =~ ^[0-9]+$ && $uid != 0 ]] || fail "container runs as uid '$uid'"
echo "uid $uid"

step "health endpoints"
http GET /health/live
expect 200 "GET /health/live"
http GET /health/ready
expect 200 "GET /health/ready"

step "the bundled default model predicts the seed example"
predict_seed_point
default_model=$(jq -r .modelId <<<"$BODY")
jq -e '.predictions | length == 1 and (.[0] - 300000 | fabs) <= 15000' <<<"$BODY" >/dev/null \
    || fail "default model: expected about 300000 for (0.5, 0.5), got $BODY"
echo "default model $default_model: $(jq -c .predictions <<<"$BODY")"

step "writes need the API key"
csv=$(awk 'BEGIN { srand(7); print "square_footage,rooms,price";
    for (i = 0; i < 400; i++) { a = rand(); b = rand(); printf "%.6f,%.6f,%.2f\n", a, b, 500000*a + 100000*b } }')
http POST '/api/v1/datasets?name=ci-houses' -H 'Content-Type: text/csv' --data-binary "$csv"
expect 401 "dataset upload without X-Api-Key"

step "upload a dataset and train a model"
http POST '/api/v1/datasets?name=ci-houses' -H 'Content-Type: text/csv' -H "X-Api-Key: $API_KEY" --data-binary "$csv"
expect 201 "dataset upload"
dataset=$(jq -r .id <<<"$BODY")
[[ $(jq -r .rowCount <<<"$BODY") == 400 ]] || fail "dataset: expected 400 rows: $BODY"

http POST /api/v1/training-jobs -H 'Content-Type: application/json' -H "X-Api-Key: $API_KEY" \
    -d "{\"datasetId\":\"$dataset\",\"target\":\"price\",\"epochs\":5,\"seed\":1,\"activate\":true}"
expect 202 "training job submission"
job=$(jq -r .id <<<"$BODY")
for _ in $(seq 150); do
    http GET "/api/v1/training-jobs/$job"
    expect 200 "GET training job"
    status=$(jq -r .status <<<"$BODY")
    case $status in
        succeeded) break ;;
        failed | cancelled) fail "training job $job $status: $(jq -r .error <<<"$BODY")" ;;
    esac
    sleep 2
done
[[ $status == succeeded ]] || fail "training job $job still $status after 300 s"
trained_model=$(jq -r .modelId <<<"$BODY")
echo "job $job succeeded: model $trained_model"
[[ $trained_model != "$default_model" ]] || fail "the job reported the default model's id"

http GET /api/v1/models/active
expect 200 "GET active model"
[[ $(jq -r .id <<<"$BODY") == "$trained_model" ]] || fail "active model is not the trained one: $BODY"

step "the trained model survives a restart (volume)"
docker compose restart api
wait_healthy
http GET /api/v1/models/active
expect 200 "GET active model after restart"
[[ $(jq -r .id <<<"$BODY") == "$trained_model" ]] || fail "after a restart the active model is $(jq -r .id <<<"$BODY"), not $trained_model"
predict_seed_point
[[ $(jq -r .modelId <<<"$BODY") == "$trained_model" ]] || fail "after a restart predictions come from $(jq -r .modelId <<<"$BODY")"

echo "container test passed"
