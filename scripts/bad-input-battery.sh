#!/usr/bin/env bash
# Sends every class of bad input to a running ModelService and checks each answer from outside: the expected 4xx,
# application/problem+json with status, title and detail, the offending field named in `errors`, and no change to
# the stored datasets, models, active model or jobs.
#
#   scripts/bad-input-battery.sh BASE_URL [API_KEY]
#
# The service's limits, when not the defaults, are given in the environment: LIMIT_BODY_BYTES, LIMIT_DATASET_ROWS,
# LIMIT_DATASET_COLUMNS, LIMIT_PREDICTION_ROWS, LIMIT_EPOCHS. The battery sends about 50 training submissions, so run
# it against a service whose RateLimiting:Training:PermitLimit allows that (or is 0). Needs curl and jq.
# Before the battery it uploads a small dataset and trains a one-epoch model (not activated); it deletes both after.
set -euo pipefail

base=${1:?usage: $0 BASE_URL [API_KEY]}
base=${base%/}
key=${2:-}
body_limit=${LIMIT_BODY_BYTES:-104857600}
rows_limit=${LIMIT_DATASET_ROWS:-2000000}
columns_limit=${LIMIT_DATASET_COLUMNS:-1000}
prediction_rows_limit=${LIMIT_PREDICTION_ROWS:-200000}
epochs_limit=${LIMIT_EPOCHS:-1000}
wrong_key=wrong-key-0123456789abcdef

command -v jq >/dev/null || { echo "jq is required" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

keyed() { if [ -n "$key" ]; then curl -sS -H "X-Api-Key: $key" "$@"; else curl -sS "$@"; fi; }

snapshot() {
  for path in /api/v1/datasets /api/v1/models /api/v1/models/active /api/v1/training-jobs; do
    keyed "$base$path" | jq -S .
  done
}

# put NAME TEXT: writes TEXT (printf escapes such as \xe9 allowed) to a body file and prints its path.
put() { printf '%b' "$2" >"$tmp/$1"; echo "$tmp/$1"; }

# check NAME STATUS FIELD METHOD PATH [CONTENT_TYPE BODY_FILE [KEY_MODE: key|none|wrong]]
check() {
  local name=$1 status=$2 field=$3 method=$4 path=$5 type=${6:-} body=${7:-} mode=${8:-key}
  local args=(-sS --path-as-is -o "$tmp/response" -D "$tmp/headers" -w '%{http_code}' -X "$method")
  if [ -n "$body" ]; then args+=(--data-binary "@$body" -H "Content-Type:${type:+ $type}"); fi
  case $mode in
    key) if [ -n "$key" ]; then args+=(-H "X-Api-Key: $key"); fi ;;
    wrong) args+=(-H "X-Api-Key: $wrong_key") ;;
  esac
  local code problem=ok
  : >"$tmp/headers"
  code=$(curl "${args[@]}" "$base$path" 2>"$tmp/curl-error") || true
  code=${code:-000}
  if ! grep -qi '^content-type: application/problem+json' "$tmp/headers"; then
    problem="not application/problem+json"
  elif ! jq -e --argjson s "$code" '.status == $s and (.title | length > 0) and (.detail | length > 0)' "$tmp/response" >/dev/null; then
    problem="status, title or detail missing"
  elif [ -n "$field" ] && ! jq -e --arg f "$field" '.errors | has($f)' "$tmp/response" >/dev/null; then
    problem="errors do not name '$field': $(head -c 300 "$tmp/response")"
  fi
  if [ "$code" = "$status" ] && [ "$problem" = ok ]; then
    passed=$((passed + 1))
    echo "PASS $code $name"
  else
    failed=$((failed + 1))
    echo "FAIL $code (expected $status) $name${problem:+: $problem}"
  fi
}

# --- setup: a dataset with a categorical column, a model trained on it (not activated) and its finished job -------
csv="square_footage,rooms,city,price"
for i in $(seq 1 20); do csv+=$'\n'"0.$i,0.$((21 - i)),$([ $((i % 2)) = 0 ] && echo north || echo south),$((i * 25000 + 1000))"; done
ds=$(keyed -X POST -H 'Content-Type: text/csv' --data-binary "$csv" "$base/api/v1/datasets?name=battery" | jq -r .id)
job=$(keyed -X POST -H 'Content-Type: application/json' \
  -d "{\"datasetId\": \"$ds\", \"target\": \"price\", \"epochs\": 1, \"activate\": false}" "$base/api/v1/training-jobs" | jq -r .id)
for _ in $(seq 1 600); do
  status=$(keyed "$base/api/v1/training-jobs/$job" | jq -r .status)
  case $status in succeeded | failed | cancelled) break ;; esac
  sleep 0.1
done
[ "$status" = succeeded ] || { echo "setup: training job $job ended $status" >&2; exit 2; }
model=$(keyed "$base/api/v1/training-jobs/$job" | jq -r .modelId)
active=$(keyed "$base/api/v1/models/active" | jq -r .id)
snapshot >"$tmp/before"

# --- datasets: CSV ------------------------------------------------------------------------------------------------
houses=/api/v1/datasets?name=houses
check "csv: empty body" 400 body POST $houses text/csv "$(put e.csv '')"
check "csv: header only" 400 body POST $houses text/csv "$(put h.csv 'a,b,y\n')"
check "csv: ragged row (short)" 400 "row 2" POST $houses text/csv "$(put r1.csv 'a,b,y\n1,2,3\n4,5\n')"
check "csv: ragged row (long)" 400 "row 2" POST $houses text/csv "$(put r2.csv 'a,b,y\n1,2,3\n4,5,6,7\n')"
check "csv: duplicate column names" 400 "column 2" POST $houses text/csv "$(put d.csv 'a,a,y\n1,2,3\n')"
check "csv: empty column name" 400 "column 2" POST $houses text/csv "$(put n.csv 'a,,y\n1,2,3\n')"
check "csv: not UTF-8 (Latin-1 byte)" 400 body POST $houses text/csv "$(put l.csv 'name,y\ncaf\xe9,1\n')"
check "csv: UTF-16 body" 400 body POST $houses text/csv "$(put u.csv '\xff\xfea\x00,\x00y\x00\n\x001\x00,\x002\x00\n\x00')"
check "csv: NaN cell" 400 y POST $houses text/csv "$(put nan.csv 'a,y\n1,NaN\n2,3\n')"
check "csv: Infinity cell" 400 y POST $houses text/csv "$(put inf.csv 'a,y\n1,-Infinity\n2,3\n')"
check "csv: overflowing number 1e400" 400 y POST $houses text/csv "$(put big.csv 'a,y\n1,1e400\n2,3\n')"
check "csv: quote inside an unquoted field" 400 "row 1" POST $houses text/csv "$(put q.csv 'a,y\n1,x"y"\n')"
check "csv: unterminated quote" 400 "row 1" POST $houses text/csv "$(put o.csv 'a,y\n1,"open\n')"
{ seq -s, 1 $((columns_limit + 1)); seq -s, 1 $((columns_limit + 1)); } >"$tmp/wide.csv"
check "csv: more columns than Limits:MaxDatasetColumns" 400 columns POST $houses text/csv "$tmp/wide.csv"
awk -v n=$((rows_limit + 1)) 'BEGIN { print "a,y"; for (i = 0; i < n; i++) print "1,2" }' >"$tmp/long.csv"
check "csv: more rows than Limits:MaxDatasetRows" 400 body POST $houses text/csv "$tmp/long.csv"
check "csv: name too long" 400 name POST "/api/v1/datasets?name=$(printf 'n%.0s' $(seq 1 201))" text/csv "$(put ok.csv 'a,y\n1,2\n')"
check "csv: name with a control character" 400 name POST "/api/v1/datasets?name=a%01b" text/csv "$tmp/ok.csv"
{ echo a,y; head -c $((body_limit + 1024)) /dev/zero | tr '\0' '1'; } >"$tmp/huge.csv"
check "csv: body over Limits:MaxRequestBodyBytes" 413 "" POST $houses text/csv "$tmp/huge.csv"
check "content type: dataset as text/plain" 415 "" POST $houses text/plain "$tmp/ok.csv"
check "content type: dataset as application/xml" 415 "" POST $houses application/xml "$tmp/ok.csv"
check "content type: dataset without one" 415 "" POST $houses "" "$tmp/ok.csv"

# --- datasets: JSON -----------------------------------------------------------------------------------------------
deep=$(printf '[%.0s' $(seq 1 1000))$(printf ']%.0s' $(seq 1 1000))
dj() { check "json dataset: $1" 400 "$2" POST /api/v1/datasets application/json "$(put dj.json "$3")"; }
dj "empty body" body ''
dj "malformed (truncated)" body '{"columns": ["a"], "rows": [[1]'
dj "not an object" body '[1, 2]'
dj "1000 levels deep" "rows[0][0]" "{\"columns\": [\"a\"], \"rows\": $deep}"
dj "columns missing" columns '{"rows": [[1]]}'
dj "rows missing" rows '{"columns": ["a"]}'
dj "rows empty" rows '{"columns": ["a"], "rows": []}'
dj "ragged row" "rows[1]" '{"columns": ["a", "y"], "rows": [[1, 2], [3]]}'
dj "duplicate column names" "columns[1]" '{"columns": ["a", "a"], "rows": [[1, 2]]}'
dj "column name not a string" "columns[1]" '{"columns": ["a", 5], "rows": [[1, 2]]}'
dj "boolean cell" "rows[0][1]" '{"columns": ["a", "y"], "rows": [[1, true]]}'
dj "NaN literal" body '{"columns": ["a", "y"], "rows": [[1, NaN]]}'
dj "Infinity literal" body '{"columns": ["a", "y"], "rows": [[1, Infinity]]}'
dj "overflowing number 1e400" y '{"columns": ["a", "y"], "rows": [[1, 1e400], [2, 3]]}'
dj "\"NaN\" string in a numeric column" y '{"columns": ["a", "y"], "rows": [[1, "NaN"], [2, 3]]}'
dj "unknown property" colour '{"columns": ["a"], "rows": [[1]], "colour": 1}'
dj "not UTF-8" body '{"columns": ["caf\xe9", "y"], "rows": [[1, 2]]}'

# --- training jobs ------------------------------------------------------------------------------------------------
jobs=/api/v1/training-jobs
t() { check "training: $1" "${4:-400}" "$2" POST $jobs application/json "$(put t.json "$3")"; }
r="\"datasetId\": \"$ds\", \"target\": \"price\""
t "empty body" body ''
t "malformed JSON" target "{\"datasetId\": \"$ds\", \"target\": "
t "1000 levels deep" "" "{$r, \"features\": $deep}"
t "NaN literal" learningRate "{$r, \"learningRate\": NaN}"
t "\"NaN\" learning rate" learningRate "{$r, \"learningRate\": \"NaN\"}"
t "\"Infinity\" learning rate" learningRate "{$r, \"learningRate\": \"Infinity\"}"
t "overflowing learning rate 1e400" learningRate "{$r, \"learningRate\": 1e400}"
t "overflowing epochs 1e400" epochs "{$r, \"epochs\": 1e400}"
t "epochs beyond Int32" epochs "{$r, \"epochs\": 99999999999}"
t "epochs 0" epochs "{$r, \"epochs\": 0}"
t "epochs over Training:MaxEpochs" epochs "{$r, \"epochs\": $((epochs_limit + 1))}"
t "epochs not an integer" epochs "{$r, \"epochs\": 2.5}"
t "batch size 0" batchSize "{$r, \"batchSize\": 0}"
t "batch size too large" batchSize "{$r, \"batchSize\": 65537}"
t "learning rate 0" learningRate "{$r, \"learningRate\": 0}"
t "learning rate negative" learningRate "{$r, \"learningRate\": -0.1}"
t "learning rate too large" learningRate "{$r, \"learningRate\": 11}"
t "no hidden layers" hiddenChannels "{$r, \"hiddenChannels\": []}"
t "hidden width 0" "hiddenChannels[1]" "{$r, \"hiddenChannels\": [16, 0]}"
t "hidden width too large" "hiddenChannels[0]" "{$r, \"hiddenChannels\": [4097]}"
t "too many hidden layers" hiddenChannels "{$r, \"hiddenChannels\": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}"
t "network too large (Training:MaxParameters)" hiddenChannels "{$r, \"hiddenChannels\": [4096, 4096, 4096]}"
t "validation fraction negative" validationFraction "{$r, \"validationFraction\": -0.1}"
t "validation fraction too large" validationFraction "{$r, \"validationFraction\": 0.95}"
t "dropout 1" dropout "{$r, \"dropout\": 1}"
t "unknown activation" activation "{$r, \"activation\": \"swish\"}"
t "unknown optimizer" optimizer "{$r, \"optimizer\": \"rmsprop\"}"
t "early stopping patience 0" earlyStoppingPatience "{$r, \"earlyStoppingPatience\": 0}"
t "unknown property" epoch "{$r, \"epoch\": 5}"
t "datasetId missing" datasetId '{"target": "price"}'
t "datasetId not a string" datasetId '{"datasetId": 5, "target": "price"}'
t "datasetId with path traversal" datasetId '{"datasetId": "../../jobs.db", "target": "price"}'
t "unknown dataset" datasetId '{"datasetId": "ds_AAAAAAAAAAAA", "target": "price"}' 404
t "unknown target" target "{\"datasetId\": \"$ds\", \"target\": \"cost\"}"
t "categorical target" target "{\"datasetId\": \"$ds\", \"target\": \"city\"}"
t "unknown feature" "features[1]" "{$r, \"features\": [\"rooms\", \"floors\"]}"
t "target as a feature" "features[1]" "{$r, \"features\": [\"rooms\", \"price\"]}"
t "duplicate feature" "features[1]" "{$r, \"features\": [\"rooms\", \"rooms\"]}"
t "not UTF-8" target "{\"datasetId\": \"$ds\", \"target\": \"pr\xffice\"}"
check "content type: training as text/plain" 415 "" POST $jobs text/plain "$(put tp.json "{$r}")"

# --- predictions --------------------------------------------------------------------------------------------------
p() { check "predictions: $1" "${4:-400}" "$2" POST /api/v1/predictions application/json "$(put p.json "$3")"; }
p "empty body" body ''
p "malformed JSON" body '{"records": [{"rooms": 0.5}'
p "1000 levels deep" body "{\"instances\": $deep}"
p "not an object" body '[[0.5, 0.5]]'
p "neither records nor instances" body '{}'
p "both records and instances" instances '{"records": [{}], "instances": [[0.5, 0.5]]}'
p "unknown property" rows '{"rows": [[0.5, 0.5]]}'
p "empty records" records '{"records": []}'
p "empty instances" instances '{"instances": []}'
p "instance too narrow" "instances[1]" '{"instances": [[0.5, 0.5], [0.5]]}'
p "instance too wide" "instances[0]" '{"instances": [[0.5, 0.5, 0.5]]}'
p "string in a numeric feature (record)" "records[0].square_footage" '{"records": [{"square_footage": "0.5", "rooms": 0.5}]}'
p "string in a numeric feature (instance)" "instances[0][1]" '{"instances": [[0.5, "0.5"]]}'
p "NaN literal" body '{"instances": [[NaN, 0.5]]}'
p "overflowing number 1e400" "records[0].square_footage" '{"records": [{"square_footage": 1e400, "rooms": 0.5}]}'
p "unknown feature" "records[0].floors" '{"records": [{"square_footage": 0.5, "floors": 2}]}'
p "feature given twice" "records[0].rooms" '{"records": [{"rooms": 0.5, "rooms": 0.4}]}'
p "record not an object" "records[0]" '{"records": [[0.5, 0.5]]}'
p "boolean value" "records[0].rooms" '{"records": [{"square_footage": 0.5, "rooms": true}]}'
awk -v n="$prediction_rows_limit" 'BEGIN { printf "{\"instances\": [[0.5, 0.5]"; for (i = 0; i < n; i++) printf ",[0.5, 0.5]"; print "]}" }' >"$tmp/many.json"
check "predictions: more rows than Predictions:MaxRows" 413 instances POST /api/v1/predictions application/json "$tmp/many.json"
p "unknown model" modelId '{"modelId": "mdl_AAAAAAAAAAAA", "instances": [[0.5, 0.5]]}' 404
p "modelId with path traversal" modelId '{"modelId": "../../jobs.db", "instances": [[0.5, 0.5]]}'
p "not UTF-8" body '{"records": [{"caf\xe9": 0.5}]}'
check "content type: predictions as text/csv" 415 "" POST /api/v1/predictions text/csv "$(put pc.csv 'square_footage,rooms\n0.5,0.5\n')"

# --- ids, queries and routes --------------------------------------------------------------------------------------
check "ids: unknown dataset" 404 "" GET /api/v1/datasets/ds_AAAAAAAAAAAA
check "ids: dataset ..%2F..%2Fetc%2Fpasswd" 404 "" GET /api/v1/datasets/..%2F..%2Fetc%2Fpasswd
check "ids: dataset %2e%2e" 404 "" GET /api/v1/datasets/%2e%2e
check "ids: dataset ../../etc/passwd (raw)" 404 "" GET /api/v1/datasets/../../etc/passwd
check "ids: delete dataset ..%2F..%2Fjobs.db" 404 "" DELETE /api/v1/datasets/..%2F..%2Fjobs.db
check "ids: unknown model" 404 "" GET /api/v1/models/mdl_AAAAAAAAAAAA
check "ids: model ..%2F..%2Fetc%2Fpasswd" 404 "" GET /api/v1/models/..%2F..%2Fetc%2Fpasswd
check "ids: activate model ..%2Factive-model" 404 "" POST /api/v1/models/..%2Factive-model/activate
check "ids: delete model %2e%2e%2fdatasets" 404 "" DELETE /api/v1/models/%2e%2e%2fdatasets
check "ids: delete the active model" 409 "" DELETE "/api/v1/models/$active"
check "ids: unknown job" 404 "" GET /api/v1/training-jobs/job_AAAAAAAAAAAA
check "ids: job ..%2F..%2Fjobs.db" 404 "" GET /api/v1/training-jobs/..%2F..%2Fjobs.db
check "ids: cancel a finished job" 409 "" POST "/api/v1/training-jobs/$job/cancel"
check "query: unknown job status" 400 status GET "/api/v1/training-jobs?status=sleeping"
check "query: job limit 0" 400 limit GET "/api/v1/training-jobs?limit=0"
check "query: job limit not a number" 400 "" GET "/api/v1/training-jobs?limit=ten"
check "routes: unknown path" 404 "" GET /nothing-here
check "routes: wrong method" 405 "" PUT /api/v1/datasets

# --- auth (only when the service has keys) ------------------------------------------------------------------------
if [ -n "$key" ]; then
  check "auth: upload without a key" 401 "" POST $houses text/csv "$tmp/ok.csv" none
  check "auth: upload with a wrong key" 401 "" POST $houses text/csv "$tmp/ok.csv" wrong
  check "auth: training without a key" 401 "" POST $jobs application/json "$tmp/tp.json" none
  check "auth: delete dataset without a key" 401 "" DELETE "/api/v1/datasets/$ds" "" "" none
  check "auth: activate model with a wrong key" 401 "" POST "/api/v1/models/$model/activate" "" "" wrong
  check "auth: delete model without a key" 401 "" DELETE "/api/v1/models/$model" "" "" none
fi

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
keyed -X DELETE "$base/api/v1/datasets/$ds" >/dev/null
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
