#!/usr/bin/env bash
# Browser and operations check: starts the built service on a free loopback port with a temporary store, trains a
# short job, a 3-trial sweep and a per-position model on a tensor dataset (each followed over Server-Sent Events), lints
# /metrics with promtool, renders the status page in headless Chromium (asserting the job's loss chart, the sweep's
# leaderboard and trial curves, and the tensor model's shape and head are drawn) and executes a prediction through
# Swagger UI.
# Screenshots and transcripts go to TestResults/browser/. Needs the API built (dotnet build or dotnet test first).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
out="$root/TestResults/browser"
mkdir -p "$out"

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if ((${#missing[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
(cd tests/browser && npm ci --no-audit --no-fund --silent)

app="$root/src/Api/bin/Debug/net10.0"
[[ -f "$app/ModelService.Api.dll" ]] || dotnet build src/Api/Api.csproj -v quiet
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
store=$(mktemp -d)
profile=$(mktemp -d)
# The content root is the project folder, where wwwroot (the status page) lives; publish copies it next to the app.
# Writes without a key, as a trusted local client (Production would otherwise generate and require one).
(cd "$app" && exec env Storage__Root="$store" ASPNETCORE_URLS="$base" ASPNETCORE_ENVIRONMENT=Production Auth__AllowAnonymousWrites=true \
    dotnet ModelService.Api.dll --contentRoot "$root/src/Api") >"$out/service.log" 2>&1 &
service=$!
trap 'kill "$service" 2>/dev/null; wait "$service" 2>/dev/null; rm -rf "$store" "$profile"' EXIT

for _ in $(seq 1 60); do
    curl -fs "$base/health/ready" >/dev/null 2>&1 && break
    sleep 1
done
curl -fs "$base/health/ready" >/dev/null || { echo "service did not become ready" >&2; tail -20 "$out/service.log" >&2; exit 1; }

json() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }
csv=$(python3 -c '
import random
random.seed(7)
print("square_footage,rooms,price")
for _ in range(500):
    a, b = random.random(), random.random()
    print(f"{a},{b},{500000 * a + 100000 * b}")')
dataset=$(curl -fs -X POST "$base/api/v1/datasets?name=houses" -H 'Content-Type: text/csv' --data-binary "$csv" | json '["id"]')
job=$(curl -fs -X POST "$base/api/v1/training-jobs" -H 'Content-Type: application/json' \
    -d "{\"datasetId\": \"$dataset\", \"target\": \"price\", \"epochs\": 15, \"activate\": false}" | json '["id"]')
curl -fsN --max-time 120 "$base/api/v1/training-jobs/$job/events" >"$out/training-events.txt"
grep -q '^event: outcome' "$out/training-events.txt" || { echo "no outcome event" >&2; exit 1; }
grep -q '"status":"succeeded"' "$out/training-events.txt" || { echo "job $job did not succeed" >&2; cat "$out/training-events.txt" >&2; exit 1; }
echo "SSE: $(grep -c '^event: epoch' "$out/training-events.txt") epoch events and the outcome for $job"

sweep=$(curl -fs -X POST "$base/api/v1/sweeps" -H 'Content-Type: application/json' \
    -d "{\"datasetId\": \"$dataset\", \"target\": \"price\", \"base\": {\"epochs\": 6, \"hiddenChannels\": [8]}, \"grid\": {\"learningRate\": [0.001, 0.01, 0.03]}}" \
    | json '["id"]')
curl -fsN --max-time 120 "$base/api/v1/sweeps/$sweep/events" >"$out/sweep-events.txt"
grep -q '^event: sweep-end' "$out/sweep-events.txt" || { echo "no sweep-end event" >&2; exit 1; }
grep -q '"status":"succeeded"' "$out/sweep-events.txt" || { echo "sweep $sweep did not succeed" >&2; cat "$out/sweep-events.txt" >&2; exit 1; }
echo "SSE: $(grep -c '^event: trial-epoch' "$out/sweep-events.txt") trial-epoch and $(grep -c '^event: trial-end' "$out/sweep-events.txt") trial-end events and the end of $sweep"

# A tensor dataset (the JSON form: 40 samples of [4, 4, 2], a target per position) trains a per-position model.
tensors=$(python3 -c '
import json, random
random.seed(3)
x = [[[[random.random(), random.random()] for _ in range(4)] for _ in range(4)] for _ in range(40)]
print(json.dumps({"name": "tiles", "x": x, "y": [[[3 * p[0] - 2 * p[1] for p in row] for row in s] for s in x]}))')
tensor_dataset=$(curl -fs -X POST "$base/api/v1/datasets" -H 'Content-Type: application/json' --data-binary "$tensors" | json '["id"]')
tensor_job=$(curl -fs -X POST "$base/api/v1/training-jobs" -H 'Content-Type: application/json' \
    -d "{\"datasetId\": \"$tensor_dataset\", \"epochs\": 5, \"learningRate\": 0.01, \"activate\": false}" | json '["id"]')
curl -fsN --max-time 120 "$base/api/v1/training-jobs/$tensor_job/events" >"$out/tensor-training-events.txt"
grep -q '"status":"succeeded"' "$out/tensor-training-events.txt" || { echo "tensor job $tensor_job did not succeed" >&2; cat "$out/tensor-training-events.txt" >&2; exit 1; }
echo "tensor dataset $tensor_dataset trained a per-position model ($tensor_job)"

curl -fs "$base/metrics" >"$out/metrics.txt"
promtool check metrics <"$out/metrics.txt"
echo "promtool check metrics: OK ($(grep -c '^# TYPE' "$out/metrics.txt") metric families)"

chrome=(chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update
    --disable-sync --no-first-run --user-data-dir="$profile" --virtual-time-budget=5000 --window-size=1280,1100)
"${chrome[@]}" --dump-dom "$base/" 2>/dev/null >"$out/status-page.html"
grep -q "data-job-id=\"$job\"" "$out/status-page.html" || { echo "status page does not list job $job" >&2; exit 1; }
grep -Eq '<path class="loss-train" d="M[0-9.]+,[0-9.]+( L[0-9.]+,[0-9.]+){14}"' "$out/status-page.html" \
    || { echo "status page has no 15-epoch training loss curve" >&2; exit 1; }
grep -q '<path class="loss-validation" d="M' "$out/status-page.html" || { echo "status page has no validation loss curve" >&2; exit 1; }
grep -q "data-sweep-id=\"$sweep\"" "$out/status-page.html" || { echo "status page does not list sweep $sweep" >&2; exit 1; }
[[ $(grep -Eo '<path class="loss-trial" d="M[0-9.]+,[0-9.]+( L[0-9.]+,[0-9.]+){5}"' "$out/status-page.html" | wc -l) == 3 ]] \
    || { echo "status page does not draw the 3 trials' 6-epoch loss curves" >&2; exit 1; }
[[ $(grep -o '<tr data-trial=' "$out/status-page.html" | wc -l) == 3 ]] || { echo "status page leaderboard does not rank 3 trials" >&2; exit 1; }
grep -q '\[4, 4, 2\] tensors (per-position head)' "$out/status-page.html" \
    || { echo "status page does not show the tensor model's input shape and head" >&2; exit 1; }
"${chrome[@]}" --screenshot="$out/status-page.png" "$base/" >/dev/null 2>&1
[[ -s "$out/status-page.png" ]] || { echo "no status page screenshot" >&2; exit 1; }
echo "status page: loss chart for $job, leaderboard and trial curves for $sweep rendered; screenshot $out/status-page.png"

node tests/browser/swagger-predict.mjs "$base" "$out/swagger-prediction.png"
echo "screenshots: $out/status-page.png $out/swagger-prediction.png"
