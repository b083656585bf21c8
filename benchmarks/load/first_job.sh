#!/usr/bin/env bash
# The first job of a fresh service vs PyTorch, same machine, same run. Each of RUNS (5) rounds starts a fresh published
# service process with an empty store twice, once as configured ("warm": the training warm-up on, the default) and once
# with TrainingWarmup__Enabled=false ("cold"); each is timed to its first 200 from /health/ready, sent the seed job
# (benchmarks/load/first_job.py: finishedAt - startedAt of the first and of a second job) and stopped. Then PyTorch's
# seed job runs at 1 and at 2 threads (each bounded by TORCH_TIMEOUT seconds, 120; a run over it counts as missing).
# Prints every run and the medians; PyTorch's figure is the better of its two thread counts' medians, and the ratios
# are the medians' ratios and, because the machine's speed drifts, the median of each round's ratio against that round's
# better PyTorch run. The service's training thread runs at normal priority here, as PyTorch's does: under the
# default SCHED_IDLE any other work on the machine (a compile, another benchmark) would be measured instead of training.
# Writes are open (Auth:AllowAnonymousWrites), as for a trusted local client: Production otherwise requires a key.
# Usage (from anywhere): bash benchmarks/load/first_job.sh   Environment: RUNS (5), PORT (5103), TORCH_TIMEOUT (120).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
RUNS=${RUNS:-5}
PORT=${PORT:-5103}
TORCH_TIMEOUT=${TORCH_TIMEOUT:-120}
URL=http://127.0.0.1:$PORT
PY=/usr/bin/python3

work=$(mktemp -d)
touch "$work/torch-1.jsonl" "$work/torch-2.jsonl"
service_pid=""
cleanup() {
    if [[ -n $service_pid ]]; then kill "$service_pid" 2>/dev/null || true; wait "$service_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

echo "== machine: $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== publishing a Release build"
dotnet publish src/Api -c Release -o "$work/api" -v q -nologo >/dev/null

now_ms() { date +%s%3N; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { $PY -c 'import json, sys; print("\n".join(str(json.loads(l)[sys.argv[1]]) for l in sys.stdin if l.startswith("{")))' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "n/a" || b == "n/a" || b == 0) print "n/a"; else printf "%.2f\n", a / b }'; }

# first_job VARIANT [NAME=value...]: a fresh service with the given extra settings, its start-up and first two jobs.
first_job() {
    local variant=$1 started ready=""
    shift
    started=$(now_ms)
    (cd "$work/api" && exec env ASPNETCORE_ENVIRONMENT=Production ASPNETCORE_URLS=$URL Storage__Root="$(mktemp -d -p "$work")" \
        Serilog__MinimumLevel__Default=Warning Training__IdleScheduling=false Training__Niceness=0 Auth__AllowAnonymousWrites=true "$@" dotnet ModelService.Api.dll >"$work/service.log" 2>&1) &
    service_pid=$!
    for _ in $(seq 1 3000); do
        if [[ $(curl -s -o /dev/null -w '%{http_code}' "$URL/health/ready") == 200 ]]; then ready=$(( $(now_ms) - started )); break; fi
        sleep 0.01
    done
    if [[ -z $ready ]]; then echo "service did not become ready; log:" >&2; tail -20 "$work/service.log" >&2; exit 1; fi
    echo "$ready" >>"$work/startup-$variant"
    $PY "$root/benchmarks/load/first_job.py" --url "$URL" | sed "s/^{/{\"variant\": \"$variant\", \"ready_ms\": $ready, /" \
        | tee -a "$work/service-$variant.jsonl"
    kill "$service_pid"; wait "$service_pid" 2>/dev/null || true; service_pid=""
}

for run in $(seq 1 "$RUNS"); do
    echo "== round $run (load $(cut -d' ' -f1 /proc/loadavg))"
    first_job warm
    first_job cold TrainingWarmup__Enabled=false
    : >"$work/torch-round.jsonl"
    for threads in 1 2; do
        timeout "$TORCH_TIMEOUT" $PY "$root/benchmarks/peers/pytorch_seed.py" --threads "$threads" | tee -a "$work/torch-$threads.jsonl" \
            "$work/torch-round.jsonl" || echo "PyTorch at $threads threads took over $TORCH_TIMEOUT s; not counted"
    done
    # The machine's speed drifts between rounds, so each round's first jobs are also set against that round's PyTorch.
    best=$(field seconds <"$work/torch-round.jsonl" | sort -g | head -1)
    best=${best:-n/a}
    for variant in warm cold; do
        ratio "$(tail -1 "$work/service-$variant.jsonl" | field first)" "$best" | tee -a "$work/ratios-$variant" \
            | sed "s/^/round $run: $variant first job \/ PyTorch /"
    done
done

torch1=$(field seconds <"$work/torch-1.jsonl" | median)
torch2=$(field seconds <"$work/torch-2.jsonl" | median)
torch=$(printf '%s\n%s\n' "$torch1" "$torch2" | grep -v n/a | sort -g | head -1 || true)
torch=${torch:-n/a}
echo "== medians of $RUNS rounds (load now $(cut -d' ' -f1-3 /proc/loadavg))"
echo "PyTorch seed job: $torch s (1 thread $torch1 s: $(field seconds <"$work/torch-1.jsonl" | paste -sd' '); 2 threads $torch2 s)"
for variant in warm cold; do
    first=$(field first <"$work/service-$variant.jsonl" | median)
    second=$(field second <"$work/service-$variant.jsonl" | median)
    echo "$variant: start-up to ready $(median <"$work/startup-$variant") ms ($(paste -sd' ' "$work/startup-$variant")); first job" \
        "$first s ($(field first <"$work/service-$variant.jsonl" | paste -sd' ')); second job $second s;" \
        "first / PyTorch $(ratio "$first" "$torch") (median of the rounds' own ratios $(median <"$work/ratios-$variant"):" \
        "$(paste -sd' ' "$work/ratios-$variant")); first / second $(ratio "$first" "$second")"
done
