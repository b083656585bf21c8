# Sourced by run.sh and compare_batch.sh: the one-request-of-100,000-rows measurement. Needs PY and work set.

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# write_bodies: the same 100,000 rows as records ($work/rows100k.json) and as instances ($work/instances100k.json).
write_bodies() {
    $PY -c 'import json, random; r = random.Random(3); print(json.dumps({"records": [{"square_footage": r.random(), "rooms": r.random()} for _ in range(100000)]}))' >"$work/rows100k.json"
    $PY -c 'import json, random; r = random.Random(3); print(json.dumps({"instances": [[r.random(), r.random()] for _ in range(100000)]}))' >"$work/instances100k.json"
}

# batch_run URL FORM FILE: 20 warm-up requests (the JIT's tiering settles), then 15 timed ones; prints the median seconds
# after checking the last answer holds 100,000 predictions.
batch_run() {
    local times=() t
    for i in $(seq 1 35); do
        t=$(curl -s -o "$work/out100k.json" -w '%{time_total}' "$1/api/v1/predictions" -H 'Content-Type: application/json' \
            --data-binary @"$3")
        (( i > 20 )) && times+=("$t")
    done
    $PY -c 'import json, sys; d = json.load(open(sys.argv[1])); assert len(d["predictions"]) == 100000, d' "$work/out100k.json"
    echo "$2: ${times[*]}" >&2
    printf '%s\n' "${times[@]}" | median
}
