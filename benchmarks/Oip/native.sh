#!/usr/bin/env bash
# Single-row inference under load measured with native load generators, so that the client's own cost is small and
# alike on both sides: wrk (HTTP/1.1) posting a one-row v2 JSON infer, and h2load (HTTP/2, nghttp2) sending a one-row
# gRPC ModelInfer (FP32 [1, 2] in raw_input_contents, as Triton's client sends it). REST uses CONNECTIONS connections;
# gRPC the same number of concurrent calls, once multiplexed on one connection (how gRPC clients run) and once over
# CONNECTIONS connections. The order of the three rotates every run; each runs DURATION s after a warm-up. Afterwards
# the model's /v2 statistics must count every request h2load and wrk saw answered as a success (h2load counts a
# gRPC error as an HTTP 200, so the counts are the check). The .NET client of run.sh measures the same paths with
# the clients a .NET caller would use; on two shared cores its own cost is much of what it measures. Prints each run, the medians and the per-run ratios.
# Usage (from anywhere): bash benchmarks/Oip/native.sh   Environment: CONNECTIONS (16), DURATION (10), RUNS (5), PORT
# (5121; gRPC on PORT + 1).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
PORT=${PORT:-5121}
CONNECTIONS=${CONNECTIONS:-16}
DURATION=${DURATION:-10}
RUNS=${RUNS:-5}
work=$(mktemp -d)
source "$root/benchmarks/sweep/service.sh" # publish_service, start_service (REST on $PORT, gRPC on $PORT + 1), $PY
trap 'stop_service; rm -rf "$work"' EXIT
REST=$URL
GRPC=http://127.0.0.1:$((PORT + 1))
KEY='X-Api-Key: benchmark-key-0123456789'
for tool in wrk h2load; do
    command -v $tool >/dev/null || apt-get -o DPkg::Lock::Timeout=600 install -y -q "$([[ $tool == wrk ]] && echo wrk || echo nghttp2-client)" >/dev/null
done

echo "== machine: $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg); $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), h2load $(h2load --version | awk '{print $NF}')"
publish_service
start_service

# The gRPC request as it goes on the wire: a 5-byte prefix (not compressed, length big-endian) then the protobuf
# ModelInferRequest {model_name: "modelservice", inputs: [{name: "input0", datatype: "FP32", shape: [1, 2]}],
# raw_input_contents: [0.5f, 0.5f]}, encoded from the protocol's field numbers.
$PY - "$work/infer.grpc" <<'PYEOF'
import struct, sys
def key(field, wire): return bytes([field << 3 | wire])
def text(field, value): return key(field, 2) + bytes([len(value)]) + value
tensor = text(1, b"input0") + text(2, b"FP32") + key(3, 2) + bytes([2, 1, 2])
message = text(1, b"modelservice") + text(5, tensor) + text(7, struct.pack("<2f", 0.5, 0.5))
open(sys.argv[1], "wb").write(struct.pack(">BI", 0, len(message)) + message)
PYEOF
printf '%s' '{"inputs":[{"name":"input0","shape":[1,2],"datatype":"FP32","data":[0.5,0.5]}]}' >"$work/infer.json"
cat >"$work/rest.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Api-Key"] = "benchmark-key-0123456789"
wrk.body = '$(cat "$work/infer.json")'
EOF

# One gRPC call with curl first: the answer must carry grpc-status 0.
curl -s --http2-prior-knowledge -H 'content-type: application/grpc' -H 'te: trailers' -H "$KEY" --data-binary @"$work/infer.grpc" \
    -D "$work/grpc-headers" -o "$work/grpc-answer" "$GRPC/inference.GRPCInferenceService/ModelInfer"
grep -qi '^grpc-status: 0' "$work/grpc-headers" || { echo "the gRPC check call failed:"; cat "$work/grpc-headers"; exit 1; }

rest() {
    wrk -t2 -c"$CONNECTIONS" -d"$1s" -s "$work/rest.lua" "$REST/v2/models/modelservice/infer" >"$work/out"
    awk '/Requests\/sec/ { print $2 }' "$work/out"
    awk '/requests in/ { print $1 }' "$work/out" >>"$work/rest-count"
}
# grpc SECONDS CONNECTIONS STREAMS-PER-CONNECTION
grpc() {
    h2load -t"$(( $2 < 2 ? $2 : 2 ))" -c"$2" -m"$3" -D"$1" -d "$work/infer.grpc" -H 'content-type: application/grpc' -H 'te: trailers' \
        -H "$KEY" "$GRPC/inference.GRPCInferenceService/ModelInfer" >"$work/out"
    awk '/^finished in/ { gsub(",", "", $4); print $4 }' "$work/out"
    awk '/^status codes:/ { gsub(",", "", $3); print $3 }' "$work/out" >>"$work/grpc-count"
}
run() { # which seconds
    case $1 in
        rest) rest "$2" ;;
        grpc-1) grpc "$2" 1 "$CONNECTIONS" ;;
        grpc-n) grpc "$2" "$CONNECTIONS" 1 ;;
    esac
}

echo "== warm-up: ${DURATION}s each"
for which in rest grpc-1 grpc-n; do run $which "$DURATION" >/dev/null; done
: >"$work/rest-count"; : >"$work/grpc-count"
stats() { curl -s -H "$KEY" "$REST/v2/models/modelservice/stats" \
    | $PY -c 'import json, sys; s = json.load(sys.stdin)["model_stats"][0]["inference_stats"]; print(s["success"]["count"], s["fail"]["count"])'; }
read -r success_before fail_before < <(stats)

order=(rest grpc-1 grpc-n)
printf '%-6s %12s %12s %12s %10s %10s\n' run "REST req/s" "gRPC 1 conn" "gRPC $CONNECTIONS conn" "1c / REST" "${CONNECTIONS}c / REST"
for r in $(seq 1 "$RUNS"); do
    declare -A rate=()
    for which in "${order[@]}"; do rate[$which]=$(run "$which" "$DURATION"); done
    order=("${order[@]:1}" "${order[0]}")
    one=$(awk -v a="${rate[grpc-1]}" -v b="${rate[rest]}" 'BEGIN { printf "%.2f", a / b }')
    many=$(awk -v a="${rate[grpc-n]}" -v b="${rate[rest]}" 'BEGIN { printf "%.2f", a / b }')
    printf '%-6s %12.0f %12.0f %12.0f %10s %10s\n' "$r" "${rate[rest]}" "${rate[grpc-1]}" "${rate[grpc-n]}" "$one" "$many"
    echo "${rate[rest]} ${rate[grpc-1]} ${rate[grpc-n]} $one $many" >>"$work/runs"
done
col() { awk -v c="$1" '{ print $c }' "$work/runs" | median; }
printf '%-6s %12.0f %12.0f %12.0f %10s %10s\n' median "$(col 1)" "$(col 2)" "$(col 3)" "$(col 4)" "$(col 5)"

read -r success_after fail_after < <(stats)
sent=$(( $(paste -sd+ "$work/rest-count" | bc) + $(paste -sd+ "$work/grpc-count" | bc) ))
echo "== check: the model's statistics count $((success_after - success_before)) successes and $((fail_after - fail_before)) failures; wrk and h2load saw $sent answers"
# Every answer the load generators saw must have been a success; the failures are calls cut off when a run's time was
# up (at most the calls in flight then: the service counts a request whose client went away as failed).
(( success_after - success_before >= sent )) || { echo "fewer successes than answers: some inferences failed"; exit 1; }
