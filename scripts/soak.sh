#!/usr/bin/env bash
# Soak test: mixed load (predictions, /v2 inference, dataset uploads and deletes, training, activations, model
# imports) against one service for a given duration, reporting errors and the process's RSS over time.
#
#   scripts/soak.sh [SECONDS]          # default 600; publishes a Release build and starts it itself
#
# The service runs as a container would: Production, an API key, DOTNET_GCHeapHardLimit=0x60000000 (the heap of a
# 2 GiB container). Every 10 s a line gives the elapsed time, requests and errors so far per kind, and the RSS; the
# last lines give RSS at start, end and peak, and the errors by status. Exits 1 if any request failed or the service
# died. Environment: SOAK_OUT (folder for the report and service log; default a temporary one), SOAK_PYTHON.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-600}
out=${SOAK_OUT:-$(mktemp -d)}
mkdir -p "$out"
python=${SOAK_PYTHON:-python3}
work=$(mktemp -d)
trap 'kill "$service" 2>/dev/null; wait "$service" 2>/dev/null; rm -rf "$work"' EXIT

dotnet publish src/Api -c Release -o "$work/api" -v q -nologo >/dev/null
port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
key=soak-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
(cd "$work/api" && exec env ASPNETCORE_ENVIRONMENT=Production ASPNETCORE_URLS="http://127.0.0.1:$port" \
    Storage__Root="$work/store" Auth__ApiKeys__0="$key" DOTNET_GCHeapHardLimit=0x60000000 \
    Serilog__MinimumLevel__Override__Serilog.AspNetCore.RequestLoggingMiddleware=Warning \
    dotnet ModelService.Api.dll) >"$out/service.log" 2>&1 &
service=$!
for _ in $(seq 1 120); do
    curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break
    sleep 0.5
done
curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null || { echo "service did not become ready" >&2; tail -20 "$out/service.log" >&2; exit 1; }

"$python" scripts/soak.py --url "http://127.0.0.1:$port" --key "$key" --pid "$service" --seconds "$seconds" --keep "$out" | tee "$out/soak.txt"
status=${PIPESTATUS[0]}
echo "report: $out/soak.txt, service log: $out/service.log"
exit "$status"
