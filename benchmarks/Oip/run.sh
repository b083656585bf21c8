#!/usr/bin/env bash
# Open Inference Protocol benchmarks, each against its peer in the same run: one 100,000-row request as binary FP32 in /
# binary FP64 out vs the same rows as v2 JSON, and single-row gRPC ModelInfer vs single-row v2 REST infer under load.
# Usage (from anywhere): bash benchmarks/Oip/run.sh
# Environment: ROWS (100000), WARMUP (30: the service's JIT tiering settles), TIMED (15), CONNECTIONS (16),
# GRPC_CHANNELS (1,0: one channel, then one channel per caller), DURATION (s per load run, 10), RUNS (3), PARTS (batch,single).
set -euo pipefail
cd "$(dirname "$0")/../.."
REST_PORT=5111
GRPC_PORT=5112
work=$(mktemp -d)
service_pid=
cleanup() {
    [[ -n $service_pid ]] && kill "$service_pid" 2>/dev/null && wait "$service_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== publishing Release builds"
dotnet publish src/Api -c Release -o "$work/api" -v q -nologo >/dev/null
dotnet publish benchmarks/Oip -c Release -o "$work/bench" -v q -nologo >/dev/null

(cd "$work/api" && ASPNETCORE_ENVIRONMENT=Production ASPNETCORE_URLS="http://127.0.0.1:$REST_PORT" Inference__GrpcPort=$GRPC_PORT \
    Storage__Root="$work/store" Serilog__MinimumLevel__Default=Warning exec dotnet ModelService.Api.dll >"$work/service.log" 2>&1) &
service_pid=$!
for _ in $(seq 1 1500); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$REST_PORT/v2/health/ready") == 200 ]] && break
    sleep 0.01
done
dotnet "$work/bench/ModelService.Oip.Bench.dll" --rest "http://127.0.0.1:$REST_PORT" --grpc "http://127.0.0.1:$GRPC_PORT" \
    --rows "${ROWS:-100000}" --warmup "${WARMUP:-30}" --timed "${TIMED:-15}" --connections "${CONNECTIONS:-16}" \
    --grpc-channels "${GRPC_CHANNELS:-1,0}" --duration "${DURATION:-10}" --runs "${RUNS:-3}" --parts "${PARTS:-batch,single}"
