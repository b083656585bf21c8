#!/usr/bin/env bash
# Target 3 of run.sh (one request of 100,000 rows as instances and as records) for several builds of the service in
# one session, alternating builds every round, so that a change is judged by a ratio measured on the same machine at the
# same time. Each build is a git commit (published in Release here) or a folder holding a published build.
# Usage (from anywhere): bash benchmarks/load/compare_batch.sh BEFORE AFTER [...]   e.g. ... HEAD~3 HEAD
# Environment: ROUNDS (5), PORT (5103).
set -euo pipefail
cd "$(dirname "$0")/../.."
here=$PWD/benchmarks/load
ROUNDS=${ROUNDS:-5}
PORT=${PORT:-5103}
PY=/usr/bin/python3
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
source "$here/batch.sh"

builds=()
for build in "$@"; do
    if [ -d "$build" ]; then
        builds+=("$build")
        continue
    fi
    short=$(git rev-parse --short "$build")
    echo "== publishing $build ($short)" >&2
    mkdir -p "$work/src-$short"
    git archive "$build" | tar -x -C "$work/src-$short"
    dotnet publish "$work/src-$short/src/Api" -c Release -o "$work/api-$short" -v q -nologo >/dev/null
    builds+=("$work/api-$short")
done
write_bodies
url=http://127.0.0.1:$PORT
# cpu_ticks: user + system clock ticks of the service so far; cpu_ms FROM TO: milliseconds per request (35 per form).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
cpu_ms() { awk -v a="$1" -v b="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", (b - a) * 1000 / hz / 35 }'; }
for round in $(seq 1 "$ROUNDS"); do
    for build in "${builds[@]}"; do
        (cd "$build" && ASPNETCORE_ENVIRONMENT=Production Auth__AllowAnonymousWrites=true ASPNETCORE_URLS=$url \
            Inference__GrpcPort=$((PORT + 1)) Storage__Root="$(mktemp -d -p "$work")" Serilog__MinimumLevel__Default=Warning \
            exec dotnet ModelService.Api.dll >"$work/service.log" 2>&1) &
        pid=$!
        for _ in $(seq 1 1500); do [[ $(curl -s -o /dev/null -w '%{http_code}' "$url/health/ready") == 200 ]] && break; sleep 0.02; done
        # CPU time of the service process per request as well: less disturbed than wall time by other work on the machine.
        before=$(cpu_ticks)
        instances=$(batch_run "$url" instances "$work/instances100k.json" 2>/dev/null)
        middle=$(cpu_ticks)
        records=$(batch_run "$url" records "$work/rows100k.json" 2>/dev/null)
        after=$(cpu_ticks)
        kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
        echo "$round $build $instances $records $(cpu_ms $before $middle) $(cpu_ms $middle $after)" | tee -a "$work/results"
    done
done
echo "== medians over $ROUNDS rounds (rows/s = 100000 / median seconds; load at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
for build in "${builds[@]}"; do
    i=$(awk -v b="$build" '$2 == b { print $3 }' "$work/results" | median)
    r=$(awk -v b="$build" '$2 == b { print $4 }' "$work/results" | median)
    ci=$(awk -v b="$build" '$2 == b { print $5 }' "$work/results" | median)
    cr=$(awk -v b="$build" '$2 == b { print $6 }' "$work/results" | median)
    echo "$build: instances $i s ($(awk -v t="$i" 'BEGIN { printf "%.0f", 100000 / t }') rows/s, $ci CPU ms/request)," \
        "records $r s ($(awk -v t="$r" 'BEGIN { printf "%.0f", 100000 / t }') rows/s, $cr CPU ms/request)"
done
