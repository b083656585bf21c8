#!/usr/bin/env bash
# Sends the bad-input battery of tests/Api.Tests/Errors/BadInputBatteryTests.cs to a running ModelService and checks each
# answer from outside: the expected status, application/problem+json (or, under /v2, the Open Inference Protocol's
# {"error": "..."}) naming the offending field, and no change to the stored datasets, models, active model or jobs.
# The cases come from scripts/bad-input-cases.json, which a test keeps equal to the C# list.
#
#   eval "$(scripts/bad-input-battery.sh --env)"   # the limits and key the cases assume; start the service after this
#   scripts/bad-input-battery.sh BASE_URL
#
# Before the battery it uploads a small dataset and a small tensor dataset and trains a one-epoch model (not activated) on
# each; it deletes them after.
# Needs curl, jq and base64.
set -euo pipefail

cases=$(dirname "$0")/bad-input-cases.json
command -v jq >/dev/null || { echo "jq is required" >&2; exit 2; }
if [ "${1:-}" = --env ]; then
  jq -r '.settings | to_entries[] | "export \(.key)=\(.value | @sh)"' "$cases"
  exit 0
fi
base=${1:?usage: $0 BASE_URL (or --env)}
base=${base%/}
key=$(jq -r '.settings.Auth__ApiKeys__0' "$cases")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

keyed() { curl -sS -H "X-Api-Key: $key" "$@"; }

snapshot() {
  for path in /api/v1/datasets /api/v1/models /api/v1/models/active /api/v1/training-jobs; do
    keyed "$base$path" | jq -S .
  done
}

# --- setup: a dataset with a categorical column, a model trained on it (not activated) and its finished job -------
csv="square_footage,rooms,city,price"
for i in $(seq 1 20); do csv+=$'\n'"0.$i,0.$((21 - i)),$([ $((i % 2)) = 0 ] && echo north || echo south),$((i * 25000 + 1000))"; done
ds=$(keyed -X POST -H 'Content-Type: text/csv' --data-binary "$csv" "$base/api/v1/datasets?name=battery" | jq -r .id)
# Trains one epoch of the request in $1 and prints the finished job's id.
train() {
  local job status
  job=$(keyed -X POST -H 'Content-Type: application/json' -d "$1" "$base/api/v1/training-jobs" | jq -r .id)
  for _ in $(seq 1 600); do
    status=$(keyed "$base/api/v1/training-jobs/$job" | jq -r .status)
    case $status in succeeded | failed | cancelled) break ;; esac
    sleep 0.1
  done
  [ "$status" = succeeded ] || { echo "setup: training job $job ended $status" >&2; exit 2; }
  echo "$job"
}
job=$(train "{\"datasetId\": \"$ds\", \"target\": \"price\", \"epochs\": 1, \"activate\": false}")
model=$(keyed "$base/api/v1/training-jobs/$job" | jq -r .modelId)
# The tensor dataset of BadInputBatteryTests.Service.TensorDataset: ten [2, 2, 1] samples with a target per position.
tensor_set='{"name": "battery-tensor", "x": [[[[0.0],[0.1]],[[0.2],[0.3]]],[[[0.1],[0.2]],[[0.3],[0.4]]],[[[0.2],[0.3]],[[0.4],[0.5]]],[[[0.3],[0.4]],[[0.5],[0.6]]],[[[0.4],[0.5]],[[0.6],[0.7]]],[[[0.5],[0.6]],[[0.7],[0.8]]],[[[0.6],[0.7]],[[0.8],[0.9]]],[[[0.7],[0.8]],[[0.9],[1.0]]],[[[0.8],[0.9]],[[1.0],[1.1]]],[[[0.9],[1.0]],[[1.1],[1.2]]]], "y": [[[0.0,0.2],[0.4,0.6]],[[0.2,0.4],[0.6,0.8]],[[0.4,0.6],[0.8,1.0]],[[0.6,0.8],[1.0,1.2]],[[0.8,1.0],[1.2,1.4]],[[1.0,1.2],[1.4,1.6]],[[1.2,1.4],[1.6,1.8]],[[1.4,1.6],[1.8,2.0]],[[1.6,1.8],[2.0,2.2]],[[1.8,2.0],[2.2,2.4]]]}'
tds=$(keyed -X POST -H 'Content-Type: application/json' --data-binary "$tensor_set" "$base/api/v1/datasets" | jq -r .id)
tensor_job=$(train "{\"datasetId\": \"$tds\", \"epochs\": 1, \"activate\": false}")
tensor=$(keyed "$base/api/v1/training-jobs/$tensor_job" | jq -r .modelId)
active=$(keyed "$base/api/v1/models/active" | jq -r .id)
snapshot >"$tmp/before"
fill() { LC_ALL=C sed -e "s/{ds}/$ds/g" -e "s/{model}/$model/g" -e "s/{active}/$active/g" -e "s/{job}/$job/g" -e "s/{tensor}/$tensor/g"; }

# --- the cases ----------------------------------------------------------------------------------------------------
while IFS= read -r line; do
  eval "$line"
  path=$(printf '%s' "$path" | fill)
  args=(-sS --path-as-is -o "$tmp/response" -D "$tmp/headers" -w '%{http_code}' -X "$method")
  if [ "$has_body" = true ]; then
    printf '%s' "$body" | base64 -d | fill >"$tmp/body"
    args+=(--data-binary "@$tmp/body" -H "Content-Type:${type:+ $type}")
  fi
  case $mode in
    valid) args+=(-H "X-Api-Key: $key") ;;
    none) ;;
    *) args+=(-H "X-Api-Key: $mode") ;;
  esac
  : >"$tmp/headers"
  code=$(curl "${args[@]}" "$base$path" 2>"$tmp/curl-error") || true
  code=${code:-000}
  problem=ok
  if [[ $path == /v2* ]]; then
    if ! jq -e --arg f "$field" '(.error | type == "string" and length > 0) and (.error | contains($f))' "$tmp/response" >/dev/null 2>&1; then
      problem="no {\"error\"} naming '$field': $(head -c 300 "$tmp/response")"
    fi
  elif ! grep -qi '^content-type: application/problem+json' "$tmp/headers"; then
    problem="not application/problem+json"
  elif ! jq -e --argjson s "$code" '.status == $s and (.title | length > 0) and (.detail | length > 0)' "$tmp/response" >/dev/null; then
    problem="status, title or detail missing"
  elif [ -n "$field" ] && ! jq -e --arg f "$field" '.errors | has($f)' "$tmp/response" >/dev/null; then
    problem="errors do not name '$field': $(head -c 300 "$tmp/response")"
  elif [ -n "$says" ] && ! jq -e --arg w "$says" '.detail | contains($w)' "$tmp/response" >/dev/null; then
    problem="detail does not say '$says'"
  fi
  if [ "$code" = "$status" ] && [ "$problem" = ok ]; then
    passed=$((passed + 1))
    echo "PASS $code $name"
  else
    failed=$((failed + 1))
    echo "FAIL $code (expected $status) $name${problem:+: $problem}"
  fi
done < <(jq -r '.cases[] | @sh "name=\(.name) method=\(.method) path=\(.path) status=\(.status) field=\(.field // "") says=\(.says // "") type=\(.contentType // "") mode=\(.key) has_body=\(.body != null) body=\(.body // "")"' "$cases")

snapshot >"$tmp/after"
if cmp -s "$tmp/before" "$tmp/after"; then
  passed=$((passed + 1))
  echo "PASS state: datasets, models, active model and jobs unchanged"
else
  failed=$((failed + 1))
  echo "FAIL state changed:"
  diff "$tmp/before" "$tmp/after" | head -20
fi

keyed -X DELETE "$base/api/v1/models/$model" >/dev/null
keyed -X DELETE "$base/api/v1/models/$tensor" >/dev/null
keyed -X DELETE "$base/api/v1/datasets/$ds" >/dev/null
keyed -X DELETE "$base/api/v1/datasets/$tds" >/dev/null
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
