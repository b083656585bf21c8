# Sourced by the sweep, tensor and native OIP benchmarks: publishes a Release build once and starts/stops a fresh
# service on an empty store; the helpers below summarise their JSON lines.
# The training thread runs at normal priority, as the peers' do (under the default SCHED_IDLE any other work on the
# machine would be measured instead of training). Needs $work (a scratch folder) and $PORT.
URL=http://127.0.0.1:$PORT
PY=/usr/bin/python3
service_pid=""

publish_service() {
    echo "== publishing a Release build"
    dotnet publish "$root/src/Api" -c Release -o "$work/api" -v q -nologo >/dev/null
}

# start_service [NAME=value...]: a fresh service with the given extra settings, waited for until /health/ready is 200.
start_service() {
    (cd "$work/api" && exec env ASPNETCORE_ENVIRONMENT=Production ASPNETCORE_URLS=$URL Storage__Root="$(mktemp -d -p "$work")" \
        Auth__ApiKeys__0=benchmark-key-0123456789 Serilog__MinimumLevel__Default=Warning Training__IdleScheduling=false \
        Training__Niceness=0 RateLimiting__Training__PermitLimit=0 Inference__GrpcPort=$((PORT + 1)) "$@" dotnet ModelService.Api.dll >"$work/service.log" 2>&1) &
    service_pid=$!
    for _ in $(seq 1 6000); do
        if [[ $(curl -s -o /dev/null -w '%{http_code}' "$URL/health/ready") == 200 ]]; then return 0; fi
        sleep 0.02
    done
    echo "service did not become ready; log:" >&2
    tail -20 "$work/service.log" >&2
    return 1
}

stop_service() {
    if [[ -n $service_pid ]]; then kill "$service_pid" 2>/dev/null || true; wait "$service_pid" 2>/dev/null || true; fi
    service_pid=""
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { $PY -c 'import json, sys; v = [str(json.loads(l)[sys.argv[1]]) for l in sys.stdin if l.startswith("{")]; v and print("\n".join(v))' "$1"; }
# ratio A B [DECIMALS (2)]: A / B, or n/a when either is missing.
ratio() { awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { if (a == "n/a" || b == "n/a" || a == "" || b == "" || b == 0) print "n/a"; else printf "%.*f\n", d, a / b }'; }

# peer_round NAME FLAG PREFIX TIMEOUT COMMAND...: one round of a peer, run from benchmarks/peers as COMMAND FLAG 1, then
# COMMAND FLAG 2 (threads or processes), each bounded by TIMEOUT seconds (a run over it counts as missing). Each JSON
# line goes to $work/PREFIX-1.jsonl or PREFIX-2.jsonl; $best is set to the round's better seconds (empty if neither
# finished).
peer_round() {
    local name=$1 flag=$2 prefix=$3 limit=$4 n
    shift 4
    : >"$work/peer-round.jsonl"
    for n in 1 2; do
        (cd "$root/benchmarks/peers" && timeout "$limit" "$@" "$flag" "$n") | tee -a "$work/$prefix-$n.jsonl" "$work/peer-round.jsonl" \
            || echo "$name with $flag $n did not finish within $limit s; not counted"
    done
    best=$(field seconds <"$work/peer-round.jsonl" | sort -g | head -1)
}
