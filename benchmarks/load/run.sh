#!/usr/bin/env bash
# HTTP benchmarks for ModelService, each against its baseline or peer measured in the same run:
# single predictions vs a bare minimal-API app (wrk), one 100k-row request, p99 idle vs during training,
# resident memory over 1M predictions, start-up to ready, the seed job vs PyTorch, California vs PyTorch.
# Usage (from anywhere): bash benchmarks/load/run.sh
# Environment: DURATION (s per wrk run, 10), RUNS (wrk pairs, 3), CONNECTIONS (16), DATA (California CSV,
# ../shared/data/california_housing.csv from the repository root), CALIFORNIA=0 to skip the California jobs,
# PREDICTIONS (requests in the memory run, 1000000), PARTS (comma-separated subset of single,batch,memory,p99,seed,
# california,info; all by default).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
here=$root/benchmarks/load

DURATION=${DURATION:-10}
RUNS=${RUNS:-3}
CONNECTIONS=${CONNECTIONS:-16}
DATA=${DATA:-$root/../shared/data/california_housing.csv}
CALIFORNIA=${CALIFORNIA:-1}
PREDICTIONS=${PREDICTIONS:-1000000}
SERVICE_PORT=5101
BARE_PORT=5102
SERVICE=http://127.0.0.1:$SERVICE_PORT
BARE=http://127.0.0.1:$BARE_PORT
PY=/usr/bin/python3
PARTS=${PARTS:-single,batch,memory,p99,seed,california,info}
want() { [[ ",$PARTS," == *",$1,"* ]]; }

if ! command -v wrk >/dev/null; then
    apt-get install -y wrk >/dev/null
fi

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== publishing Release builds"
dotnet publish src/Api -c Release -o "$work/api" -v q -nologo >/dev/null
dotnet publish benchmarks/Bare -c Release -o "$work/bare" -v q -nologo >/dev/null

source "$here/batch.sh"
now_ms() { date +%s%3N; }

# start_service LEVEL: starts the published service with a fresh store and the given Serilog level; sets
# service_pid and startup_ms (process start to the first 200 from /health/ready).
start_service() {
    local started
    started=$(now_ms)
    (cd "$work/api" && ASPNETCORE_ENVIRONMENT=Production Auth__AllowAnonymousWrites=true ASPNETCORE_URLS=$SERVICE Storage__Root="$(mktemp -d -p "$work")" \
        Serilog__MinimumLevel__Default="$1" exec dotnet ModelService.Api.dll >"$work/service-$1.log" 2>&1) &
    service_pid=$!
    pids+=("$service_pid")
    for _ in $(seq 1 1500); do
        if [[ $(curl -s -o /dev/null -w '%{http_code}' "$SERVICE/health/ready") == 200 ]]; then
            startup_ms=$(( $(now_ms) - started ))
            return
        fi
        sleep 0.01
    done
    echo "service did not become ready; log:" >&2
    tail -20 "$work/service-$1.log" >&2
    exit 1
}

stop_service() {
    kill "$service_pid"
    wait "$service_pid" 2>/dev/null || true
}

rate() { wrk -t2 -c"$CONNECTIONS" -d"${2:-$DURATION}s" -s "$here/post.lua" "$1/api/v1/predictions" | awk '/Requests\/sec/ { print $2 }'; }
p99() { wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$here/post.lua" "$SERVICE/api/v1/predictions" \
    | awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms/, "", v) } else if (v ~ /s$/) { sub(/s/, "", v); v *= 1000 } print v }'; }
vmrss() { awk '/VmRSS/ { print $2 }' "/proc/$service_pid/status"; }

echo "== start-up (Warning logging)"
start_service Warning
startup_warning=$startup_ms
(cd "$work/bare" && ASPNETCORE_URLS=$BARE exec dotnet ModelService.Bare.dll >"$work/bare.log" 2>&1) &
pids+=($!)
for _ in $(seq 1 500); do curl -s -o /dev/null "$BARE/api/v1/predictions" -X POST -H 'Content-Type: application/json' \
    -d '{"records":[{"square_footage":0.5,"rooms":0.5}]}' && break; sleep 0.02; done
echo "ready after $startup_warning ms"
curl -s "$SERVICE/api/v1/predictions" -H 'Content-Type: application/json' -d '{"records":[{"square_footage":0.5,"rooms":0.5}]}'; echo
curl -s "$BARE/api/v1/predictions" -H 'Content-Type: application/json' -d '{"records":[{"square_footage":0.5,"rooms":0.5}]}'; echo

bare_rate="n/a" service_rate="n/a" batch_rate="n/a" rss_before="n/a" rss_after="n/a" memory_requests="n/a" p99_idle="n/a"
p99_train="n/a" seed_service="n/a" seed_torch="n/a" seed_service_rmse="n/a" seed_torch_rmse="n/a" seed_torch1="n/a"
seed_torch2="n/a" info_rate="n/a" startup_info="n/a" instances_rate="n/a"
if want single || want memory; then
echo "== single predictions, $CONNECTIONS connections, ${DURATION}s per run, $RUNS runs each (after 5 s warm-up each)"
rate "$BARE" 5 >/dev/null
rate "$SERVICE" 5 >/dev/null
bare_rates=() service_rates=()
for _ in $(seq 1 "$RUNS"); do
    bare_rates+=("$(rate "$BARE")")
    service_rates+=("$(rate "$SERVICE")")
    echo "bare ${bare_rates[-1]} req/s, service ${service_rates[-1]} req/s"
done
bare_rate=$(printf '%s\n' "${bare_rates[@]}" | median)
service_rate=$(printf '%s\n' "${service_rates[@]}" | median)
fi

if want batch; then
echo "== one request of 100,000 rows, JSON in and out (20 warm-up requests, median of 15)"
write_bodies
echo "bodies: records $(stat -c %s "$work/rows100k.json") bytes, instances $(stat -c %s "$work/instances100k.json") bytes"
batch_seconds=$(batch_run "$SERVICE" records "$work/rows100k.json")
batch_rate=$(awk -v t="$batch_seconds" 'BEGIN { printf "%.0f", 100000 / t }')
instances_seconds=$(batch_run "$SERVICE" instances "$work/instances100k.json")
instances_rate=$(awk -v t="$instances_seconds" 'BEGIN { printf "%.0f", 100000 / t }')
echo "records: median $batch_seconds s ($batch_rate rows/s); instances: median $instances_seconds s ($instances_rate rows/s)"
fi

if want memory; then
echo "== resident memory over $PREDICTIONS single predictions"
rss_before=$(vmrss)
# wrk runs for a duration, not a count: long enough for PREDICTIONS requests at the measured rate, plus 20%.
memory_seconds=$(awk -v n="$PREDICTIONS" -v r="$service_rate" 'BEGIN { printf "%d", n / r * 1.2 + 1 }')
wrk -t2 -c"$CONNECTIONS" -d"${memory_seconds}s" -s "$here/post.lua" "$SERVICE/api/v1/predictions" >"$work/memory.txt"
grep -E 'requests in|Non-2xx' "$work/memory.txt" || true
memory_requests=$(awk '/requests in/ { print $1 }' "$work/memory.txt")
rss_after=$(vmrss)
echo "VmRSS before $rss_before kB, after $rss_after kB ($memory_requests requests)"
fi

if want p99; then
echo "== p99 of single predictions, idle and while a training job runs"
p99_idles=()
for _ in $(seq 1 "$RUNS"); do p99_idles+=("$(p99)"); echo "idle p99 ${p99_idles[-1]} ms"; done
p99_idle=$(printf '%s\n' "${p99_idles[@]}" | median)
p99_train="n/a"
if [[ -f $DATA ]]; then
    california_id=$(curl -s "$SERVICE/api/v1/datasets?name=california" -H 'Content-Type: text/csv' --data-binary @"$DATA" \
        | $PY -c 'import json, sys; print(json.load(sys.stdin)["id"])')
    job=$(curl -s "$SERVICE/api/v1/training-jobs" -H 'Content-Type: application/json' -d "{\"datasetId\":\"$california_id\",
        \"target\":\"median_house_value\",\"hiddenChannels\":[64,64],\"epochs\":1000,\"batchSize\":64,\"validationFraction\":0,\"activate\":false}" \
        | $PY -c 'import json, sys; print(json.load(sys.stdin)["id"])')
    until curl -s "$SERVICE/api/v1/training-jobs/$job" | grep -q '"status":"running"'; do sleep 0.1; done
    sleep 1
    p99_trains=()
    for _ in $(seq 1 "$RUNS"); do p99_trains+=("$(p99)"); echo "training p99 ${p99_trains[-1]} ms"; done
    p99_train=$(printf '%s\n' "${p99_trains[@]}" | median)
    # The figure only counts if the job was still training when the last run ended.
    training_status=$(curl -s "$SERVICE/api/v1/training-jobs/$job" | $PY -c 'import json, sys; j = json.load(sys.stdin); print(j["status"], "at epoch", j["progress"]["epoch"], (j["error"] or "")[:200])')
    echo "training job after the runs: $training_status"
    [[ $training_status == running* ]] || p99_train="invalid (job $training_status)"
    curl -s -o /dev/null -X POST "$SERVICE/api/v1/training-jobs/$job/cancel"
    while curl -s "$SERVICE/api/v1/training-jobs/$job" | grep -qE '"status":"(queued|running)"'; do sleep 0.1; done
else
    echo "no California CSV at $DATA: skipping the training-load run"
fi
fi

field() { $PY -c 'import json, sys; print("\n".join(str(d[sys.argv[1]]) for d in map(json.loads, (l for l in sys.stdin if l.startswith("{"))) if not d.get("warmup")))' "$1"; }
if want seed; then
echo "== the seed job through the API vs PyTorch eager (same machine, same run)"
$PY "$here/seed_via_api.py" --url "$SERVICE" --runs 3 | tee "$work/seed-service.jsonl"
for threads in 1 2; do
    for _ in 1 2 3; do $PY benchmarks/peers/pytorch_seed.py --threads "$threads"; done | tee "$work/seed-torch-$threads.jsonl"
done
seed_service=$(field seconds <"$work/seed-service.jsonl" | median)
seed_service_rmse=$(field test_rmse <"$work/seed-service.jsonl" | median)
seed_torch1=$(field seconds <"$work/seed-torch-1.jsonl" | median)
seed_torch2=$(field seconds <"$work/seed-torch-2.jsonl" | median)
seed_torch=$(printf '%s\n%s\n' "$seed_torch1" "$seed_torch2" | sort -g | head -1)
seed_torch_rmse=$(field test_rmse <"$work/seed-torch-1.jsonl" | median)
fi

california_service="n/a" california_torch="n/a" california_service_rmse="n/a" california_torch_rmse="n/a"
if want california && [[ $CALIFORNIA == 1 && -f $DATA ]]; then
    echo "== California housing (64-64, 20 epochs, batch 64) through the API vs PyTorch, seeds 0-2"
    $PY benchmarks/quality/california_via_api.py "$DATA" --url "$SERVICE" --seeds 0,1,2 | tee "$work/cal-service.jsonl"
    $PY benchmarks/peers/pytorch_california.py "$DATA" --seeds 0,1,2 --threads 1,2 | tee "$work/cal-torch.jsonl"
    california_service=$(field seconds <"$work/cal-service.jsonl" | median)
    california_service_rmse=$(field test_rmse <"$work/cal-service.jsonl" | median)
    best=$($PY -c '
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{") and "seconds" in l and "seed" in l]
by = {}
for r in runs: by.setdefault(r["threads"], []).append(r)
t = min(by, key=lambda k: statistics.median(x["seconds"] for x in by[k]))
print(statistics.median(x["seconds"] for x in by[t]), statistics.median(x["test_rmse"] for x in by[t]), t)' "$work/cal-torch.jsonl")
    read -r california_torch california_torch_rmse california_torch_threads <<<"$best"
fi
stop_service

if want info; then
echo "== single predictions with the default Information logging (request log line per request, to a file)"
start_service Information
startup_info=$startup_ms
rate "$SERVICE" 5 >/dev/null
info_rates=()
for _ in $(seq 1 "$RUNS"); do info_rates+=("$(rate "$SERVICE")"); echo "service (Information) ${info_rates[-1]} req/s"; done
info_rate=$(printf '%s\n' "${info_rates[@]}" | median)
stop_service
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || b == 0) print "n/a"; else printf "%.2f", a / b }'; }
echo
echo "== summary (medians; load at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
printf '| %-44s | %-16s | %-26s | %-7s |\n' target service baseline/peer ratio
printf '| %-44s | %-16s | %-26s | %-7s |\n' "1. seed job via API, wall s (RMSE)" "$seed_service ($seed_service_rmse)" \
    "PyTorch $seed_torch (1t $seed_torch1, 2t $seed_torch2; RMSE $seed_torch_rmse)" "$(ratio "$seed_service" "$seed_torch")"
printf '| %-44s | %-16s | %-26s | %-7s |\n' "1b. California 64-64 via API, wall s (RMSE)" "$california_service ($california_service_rmse)" \
    "PyTorch ${california_torch_threads:-?}t $california_torch ($california_torch_rmse)" "$(ratio "$california_service" "$california_torch")"
printf '| %-44s | %-16s | %-26s | %-7s |\n' "2. single predictions req/s (Warning log)" "$service_rate" "bare $bare_rate" "$(ratio "$service_rate" "$bare_rate")"
printf '| %-44s | %-16s | %-26s | %-7s |\n' "2b. single predictions req/s (Information log)" "$info_rate" "bare $bare_rate" "$(ratio "$info_rate" "$bare_rate")"
printf '| %-44s | %-16s | %-26s | %-7s |\n' "3. 100k-row request (records), rows/s" "$batch_rate" "2,000,000 target" "$(ratio "$batch_rate" 2000000)"
printf '| %-44s | %-16s | %-26s | %-7s |\n' "3b. 100k-row request (instances), rows/s" "$instances_rate" "2,000,000 target" "$(ratio "$instances_rate" 2000000)"
printf '| %-44s | %-16s | %-26s | %-7s |\n' "4. p99 ms during training vs idle" "$p99_train" "idle $p99_idle" "$(ratio "$p99_train" "$p99_idle")"
printf '| %-44s | %-16s | %-26s | %-7s |\n' "5a. VmRSS kB after $memory_requests predictions" "$rss_after" "after warm-up $rss_before" "$(ratio "$rss_after" "$rss_before")"
printf '| %-44s | %-16s | %-26s | %-7s |\n' "5b. start-up to ready, ms (Warning / Info)" "$startup_warning / $startup_info" "3000 target" "$(ratio "$startup_warning" 3000)"
